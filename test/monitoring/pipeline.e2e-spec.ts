/**
 * The whole chain on real binaries: a target exposing this service's metrics (prom-client, registered from
 * src/metrics/metric-names.ts) and a real node exporter, scraped by Prometheus with config/prometheus/
 * prometheus.yml and alerts.yml, alerting through Alertmanager with config/alertmanager/alertmanager.yml
 * to a local webhook receiver.
 *
 * What the configuration files cannot show by themselves: the scrape jobs and relabelling work on real
 * exposition text, every rule evaluates without runtime errors (e.g. many-to-many joins), the recording
 * rules compute the documented SLIs, the node exporter really exposes the node_* names the rules and
 * dashboards use, and an alert reaches the receiver with its labels and annotations.
 *
 * Only timings differ from production: 1 s scrape/evaluation intervals, `for: 0s`, 1 s Alertmanager group
 * waits.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { stringify } from 'yaml';
import { DEFAULT_METRICS, JOB, METRICS } from '../../src/metrics/metric-names';
import { ALERTMANAGER_FILE, ALERTS_FILE, describeWithTools, freePort, PROMETHEUS_DIR, readYaml, start, waitFor } from './support/tools';
import { WebhookReceiver } from './support/webhook';

jest.setTimeout(90_000);

/** A stand-in for the service's /metrics: every scrape adds one "minute" of traffic. */
function fakeServiceTarget(): { registry: Registry; server: Server } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const c = (def: { name: string; help: string; labelNames: readonly string[] }) =>
    new Counter({ name: def.name, help: def.help, labelNames: [...def.labelNames], registers: [registry] });
  const g = (def: { name: string; help: string; labelNames: readonly string[] }) =>
    new Gauge({ name: def.name, help: def.help, labelNames: [...def.labelNames], registers: [registry] });
  const h = (def: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[] }) =>
    new Histogram({ name: def.name, help: def.help, labelNames: [...def.labelNames], buckets: [...def.buckets], registers: [registry] });

  const requests = c(METRICS.requestCount);
  const duration = h(METRICS.requestDuration);
  g(METRICS.modelReady).set(1);
  g(METRICS.demoModel).set(1);
  g(METRICS.queueDepth).set(3);
  g(METRICS.queueCapacity).set(64);
  g(METRICS.modelInfo).set({ model: 'demo', dtype: 'fp32', provider: 'cpu', version: '0.1.0' }, 1);
  const verdicts = c(METRICS.verdicts);

  const server = createServer(async (_req, res) => {
    // Per scrape: /predict 9 successes + 1 server error (10 % of valid requests) + 5 client errors (not
    // valid); probes 3 (not counted). Latency: 9 fast + 1 slow on /predict (10 % slow), probes slow.
    requests.inc({ method: 'POST', endpoint: '/predict', status: 'success', code: '200' }, 9);
    requests.inc({ method: 'POST', endpoint: '/predict', status: 'error', code: '500' }, 1);
    requests.inc({ method: 'POST', endpoint: '/predict', status: 'error', code: '400' }, 5);
    requests.inc({ method: 'GET', endpoint: '/health/ready', status: 'success', code: '200' }, 3);
    for (let i = 0; i < 9; i++) duration.observe({ endpoint: '/predict' }, 0.1);
    duration.observe({ endpoint: '/predict' }, 3);
    for (let i = 0; i < 3; i++) duration.observe({ endpoint: '/health/ready' }, 5);
    verdicts.inc({ safety_level: 'unsafe', category: 'Violent' });
    res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
  return { registry, server };
}

describeWithTools('Prometheus -> Alertmanager -> webhook, on the repository configuration', ['prometheus', 'alertmanager', 'nodeExporter'], (bin) => {
  const receiver = new WebhookReceiver();
  const target = fakeServiceTarget();
  const processes: Array<ReturnType<typeof start>> = [];
  let dir = '';
  let prom = '';

  const api = async (path: string) => {
    const response = await fetch(`${prom}${path}`);
    const body = (await response.json()) as { status: string; data: any };
    if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
    return body.data;
  };
  const instant = async (expr: string) => (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result as Array<{ metric: Record<string, string>; value: [number, string] }>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qwen3guard-pipeline-'));
    const [servicePort, nodePort, amPort, promPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    await new Promise<void>((resolve) => target.server.listen(servicePort, '127.0.0.1', resolve));
    const webhook = await receiver.listen();

    processes.push(
      start(bin.nodeExporter, [
        `--web.listen-address=127.0.0.1:${nodePort}`,
        '--collector.disable-defaults',
        '--collector.meminfo',
        '--collector.cpu',
        '--collector.loadavg',
      ]),
    );

    // Alertmanager: the repository file with the webhook URL pointed at the receiver and 1 s group waits.
    const am = readYaml(ALERTMANAGER_FILE);
    for (const r of am.receivers) for (const w of r.webhook_configs ?? []) w.url = webhook;
    const shorten = (route: any) => {
      route.group_wait = '1s';
      route.group_interval = '1s';
      (route.routes ?? []).forEach(shorten);
    };
    shorten(am.route);
    writeFileSync(join(dir, 'alertmanager.yml'), stringify(am));
    processes.push(
      start(bin.alertmanager, [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'am-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
      ]),
    );

    // Rules: alerts.yml with `for: 0s`, so alerts fire on the first evaluation.
    const rules = readYaml(ALERTS_FILE);
    for (const group of rules.groups) for (const rule of group.rules) if (rule.alert) rule.for = '0s';
    writeFileSync(join(dir, 'alerts.yml'), stringify(rules));

    // Prometheus: prometheus.yml (jobs, relabelling) with local ports, 1 s intervals, and the target marked
    // as production so DemoModelServing applies.
    const config = readYaml(join(PROMETHEUS_DIR, 'prometheus.yml'));
    config.global = { scrape_interval: '1s', evaluation_interval: '1s' };
    config.alerting.alertmanagers[0].static_configs[0].targets = [`127.0.0.1:${amPort}`];
    for (const scrape of config.scrape_configs) {
      const sc = scrape.static_configs[0];
      if (scrape.job_name === JOB.service) {
        sc.targets = [`127.0.0.1:${servicePort}`];
        sc.labels = { environment: 'production' };
      } else if (scrape.job_name === JOB.nodeExporter) {
        sc.targets = [`127.0.0.1:${nodePort}`];
      }
    }
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    prom = `http://127.0.0.1:${promPort}`;
    processes.push(
      start(bin.prometheus, [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prom-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ]),
    );

    await waitFor('both scrape targets up', async () => {
      const { activeTargets } = await api('/api/v1/targets');
      const up = (activeTargets as Array<{ labels: { job: string }; health: string }>).filter((t) => t.health === 'up').map((t) => t.labels.job);
      return up.includes(JOB.service) && up.includes(JOB.nodeExporter) ? true : undefined;
    }, 30_000).catch((e) => {
      throw new Error(`${e}\n${processes.map((p) => p.output().slice(-2000)).join('\n---\n')}`);
    });
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await receiver.close();
    target.server.closeAllConnections?.();
    await new Promise<void>((resolve) => target.server.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the service metrics under the job names and labels the rules expect', async () => {
    const series = await waitFor('request counter', async () => {
      const r = await instant(`${METRICS.requestCount.name}{job="${JOB.service}"}`);
      return r.length ? r : undefined;
    });
    for (const s of series) expect(Object.keys(s.metric).sort()).toEqual(['__name__', 'code', 'endpoint', 'environment', 'host', 'instance', 'job', 'method', 'status']);
    expect(series[0].metric.host).toBe('127.0.0.1');
  });

  it('the node exporter exposes the node_* series the rules and dashboards use', async () => {
    for (const name of ['node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes', 'node_cpu_seconds_total']) {
      const r = await waitFor(name, async () => {
        const v = await instant(`${name}{job="${JOB.nodeExporter}"}`);
        return v.length ? v : undefined;
      });
      expect(r.length).toBeGreaterThan(0);
    }
  });

  it('ProcessMemoryHigh can join the process with its host through the `host` label', async () => {
    const r = await waitFor('join', async () => {
      const v = await instant(`${DEFAULT_METRICS.processResidentMemory.name}{job="${JOB.service}"} / on (host) group_left () node_memory_MemTotal_bytes{job="${JOB.nodeExporter}"}`);
      return v.length ? v : undefined;
    });
    expect(r).toHaveLength(1);
    expect(Number(r[0].value[1])).toBeGreaterThan(0);
    expect(Number(r[0].value[1])).toBeLessThan(1);
  });

  it('recording rules compute the SLIs as documented: 5xx over valid requests, share slower than 2 s, probes excluded', async () => {
    const value = async (record: string) =>
      waitFor(record, async () => {
        const v = await instant(`${record}{job="${JOB.service}"}`);
        return v.length ? Number(v[0].value[1]) : undefined;
      });
    expect(await value('job:qwen3guard_request_errors:ratio_rate5m')).toBeCloseTo(0.1, 6);
    expect(await value('job:qwen3guard_request_slow:ratio_rate5m')).toBeCloseTo(0.1, 6);
  });

  it('every rule evaluates without errors', async () => {
    const rules = await waitFor('all rules evaluated twice', async () => {
      const { groups } = await api('/api/v1/rules');
      const all = (groups as Array<{ rules: Array<{ name: string; health: string; lastError?: string; lastEvaluation: string }> }>).flatMap((g) => g.rules);
      const evaluated = all.every((r) => !r.lastEvaluation.startsWith('0001'));
      return evaluated ? all : undefined;
    });
    // Wait one more evaluation so that the recording rules have data for the alerts.
    await new Promise((r) => setTimeout(r, 1500));
    expect(rules.length).toBeGreaterThan(20);
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  });

  it('a firing alert reaches the webhook through the page receiver with its runbook link', async () => {
    const demo = await waitFor(
      'DemoModelServing at the receiver',
      async () => receiver.alerts().find((a) => a.labels.alertname === 'DemoModelServing' && a.status === 'firing'),
      30_000,
    );
    expect(demo.receiver).toBe('page');
    expect(demo.labels).toMatchObject({ severity: 'critical', service: JOB.service, job: JOB.service, environment: 'production' });
    expect(demo.annotations.runbook_url).toBe('docs/runbooks.md#demomodelserving');
    expect(demo.annotations.description).toContain('qwen3guard_demo_model = 1');
    // The 10 % server errors also page (fast burn) under the availability SLO.
    const burn = await waitFor(
      'AvailabilityErrorBudgetBurn at the receiver',
      async () => receiver.alerts().find((a) => a.labels.alertname === 'AvailabilityErrorBudgetBurn' && a.labels.severity === 'critical'),
      30_000,
    );
    expect(burn.receiver).toBe('page');
    // Its warning twin fires in Prometheus but is inhibited in Alertmanager.
    expect(receiver.alerts().some((a) => a.labels.alertname === 'AvailabilityErrorBudgetBurn' && a.labels.severity === 'warning')).toBe(false);
  });
});
