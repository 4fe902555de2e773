/**
 * config/alertmanager/alertmanager.yml: valid, routes by severity, and delivers to a webhook with warnings
 * inhibited by criticals of the same alert, checked on a real Alertmanager with a local receiver.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ALERTMANAGER_FILE, describeWithTools, freePort, readYaml, run, start, waitFor } from './support/tools';
import { WebhookReceiver } from './support/webhook';

jest.setTimeout(60_000);

const DEFAULT_WEBHOOK = 'http://localhost:5001/alerts';

describe('alertmanager.yml (static)', () => {
  const config = readYaml(ALERTMANAGER_FILE);

  it('groups by alertname and job and routes critical to page, warning to ticket', () => {
    expect(config.route.group_by).toEqual(['alertname', 'job']);
    expect(config.route.receiver).toBe('ticket');
    expect(config.route.routes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ receiver: 'page', matchers: ['severity = "critical"'] }),
        expect.objectContaining({ receiver: 'ticket', matchers: ['severity = "warning"'] }),
      ]),
    );
  });

  it('posts both receivers to the configurable webhook, default http://localhost:5001/alerts', () => {
    for (const name of ['page', 'ticket']) {
      const receiver = config.receivers.find((r: any) => r.name === name);
      expect(receiver.webhook_configs).toEqual([{ url: DEFAULT_WEBHOOK, send_resolved: true }]);
    }
  });

  it('inhibits warnings by criticals of the same alertname and instance', () => {
    expect(config.inhibit_rules).toContainEqual({
      source_matchers: ['severity = "critical"'],
      target_matchers: ['severity = "warning"'],
      equal: ['alertname', 'instance'],
    });
  });
});

describeWithTools('amtool and Alertmanager', ['amtool', 'alertmanager'], ({ amtool, alertmanager }) => {
  it('amtool check-config passes', async () => {
    const result = await run(amtool, ['check-config', ALERTMANAGER_FILE]);
    expect(result.stdout).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it.each([
    [['severity=critical', 'alertname=ServiceUnavailable'], 'page'],
    [['severity=warning', 'alertname=TargetDown'], 'ticket'],
    [['alertname=SomethingWithoutSeverity'], 'ticket'],
  ])('routes %j to %s', async (labels, receiver) => {
    const result = await run(amtool, ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_FILE}`, ...labels]);
    expect(result.stdout.trim()).toBe(receiver);
  });

  describe('a running Alertmanager with this configuration', () => {
    const receiver = new WebhookReceiver();
    let dir = '';
    let am: ReturnType<typeof start> | undefined;
    let base = '';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'qwen3guard-am-'));
      const url = await receiver.listen();
      // The file under test, with the webhook pointed at the local receiver and group waits shortened.
      const config = readYaml(ALERTMANAGER_FILE);
      for (const r of config.receivers) for (const w of r.webhook_configs ?? []) w.url = url;
      const shorten = (route: any) => {
        route.group_wait = '1s';
        route.group_interval = '1s';
        (route.routes ?? []).forEach(shorten);
      };
      shorten(config.route);
      writeFileSync(join(dir, 'alertmanager.yml'), stringify(config));
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      am = start(alertmanager, [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ]);
      await waitFor('Alertmanager to be ready', async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined), 20_000).catch((e) => {
        throw new Error(`${e}\n${am?.output()}`);
      });
    });

    afterAll(async () => {
      await am?.stop();
      await receiver.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('pages criticals, tickets warnings, and mutes a warning while the same alert is critical', async () => {
      const now = new Date();
      const later = new Date(now.getTime() + 10 * 60_000);
      const alert = (labels: Record<string, string>) => ({
        labels: { service: 'qwen3guard-gen-web', ...labels },
        annotations: { summary: 's', description: 'd', runbook_url: `docs/runbooks.md#${labels.alertname.toLowerCase()}` },
        startsAt: now.toISOString(),
        endsAt: later.toISOString(),
      });
      const response = await fetch(`${base}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          alert({ alertname: 'AvailabilityErrorBudgetBurn', severity: 'critical', job: 'qwen3guard-gen-web', slo: 'availability' }),
          alert({ alertname: 'AvailabilityErrorBudgetBurn', severity: 'warning', job: 'qwen3guard-gen-web', slo: 'availability' }),
          alert({ alertname: 'HostMemoryLow', severity: 'warning', job: 'node-exporter', instance: 'host-a:9100' }),
        ]),
      });
      expect(response.ok).toBe(true);

      await waitFor('both notifications', async () => (receiver.alerts().length >= 2 ? true : undefined), 20_000);
      // Give a (wrongly) uninhibited warning time to arrive too.
      await new Promise((r) => setTimeout(r, 2500));

      const received = receiver.alerts().map((a) => [a.receiver, a.labels.alertname, a.labels.severity, a.status]);
      expect(received).toContainEqual(['page', 'AvailabilityErrorBudgetBurn', 'critical', 'firing']);
      expect(received).toContainEqual(['ticket', 'HostMemoryLow', 'warning', 'firing']);
      expect(received).not.toContainEqual(['ticket', 'AvailabilityErrorBudgetBurn', 'warning', 'firing']);
      const page = receiver.notifications.find((n) => n.receiver === 'page')!;
      expect(page.groupLabels).toEqual({ alertname: 'AvailabilityErrorBudgetBurn', job: 'qwen3guard-gen-web' });
    });
  });
});
