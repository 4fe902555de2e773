import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Where the exposition is served, on either port. */
export const METRICS_PATH = '/metrics';

/** How long close() lets a scrape in progress finish before it drops the connection. */
const CLOSE_GRACE_MS = 2000;

/**
 * The dedicated metrics listener (METRICS_MODE=separate): a plain node:http server, apart from the API's
 * Fastify instance, so scrapes never queue behind moderation traffic, never pass the API's hooks, limits or
 * future auth, and the port can be firewalled on its own. It serves exactly `GET|HEAD /metrics` (any query
 * string); every other path is 404 and other methods on /metrics are 405.
 */
export class MetricsServer {
  private server: Server | undefined;

  constructor(private readonly registry: Registry) {}

  /** The bound address once listening. */
  get address(): AddressInfo | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    if (this.server) throw new Error('the metrics server is already listening');
    const server = createServer((request, response) => void this.handle(request, response));
    server.keepAliveTimeout = 65_000; // longer than any sane scrape interval: Prometheus reuses the connection
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return this.address!;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    grace.unref();
    await closed;
    clearTimeout(grace);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== METRICS_PATH) return plain(response, 404, `Not found. Metrics are served at ${METRICS_PATH}.\n`);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return plain(response, 405, 'Method not allowed.\n');
    }
    let body: string;
    try {
      body = await this.registry.metrics();
    } catch (error) {
      return plain(response, 500, `Collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    response.writeHead(200, { 'Content-Type': this.registry.contentType, 'Content-Length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  }
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
