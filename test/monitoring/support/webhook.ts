/** A local Alertmanager webhook receiver that records every notification it gets. */
import { createServer, Server } from 'node:http';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface WebhookNotification {
  receiver: string;
  status: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: WebhookAlert[];
}

export class WebhookReceiver {
  readonly notifications: WebhookNotification[] = [];
  private server?: Server;
  port = 0;

  async listen(path = '/alerts'): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += String(chunk)));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === path) {
          try {
            this.notifications.push(JSON.parse(body) as WebhookNotification);
          } catch {
            // not JSON: ignore
          }
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Every alert received, with the receiver that notified it. */
  alerts(): Array<WebhookAlert & { receiver: string }> {
    return this.notifications.flatMap((n) => n.alerts.map((a) => ({ ...a, receiver: n.receiver })));
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
