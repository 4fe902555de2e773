/**
 * The real service, scraped by the real Prometheus: the application as the binary builds it (createApp, on
 * the demo model, on loopback with its metrics listener on a free port), node exporter, Prometheus with the
 * repository's prometheus.yml and alerts.yml, and Alertmanager with the repository's alertmanager.yml
 * posting to a local webhook receiver (see support/stack.ts for the few things changed for a test).
 *
 * Asserted through Prometheus's HTTP API, as an operator would see it: the tutorial's two queries return
 * series, every rule group loads and evaluates without error, every Grafana panel query evaluates and
 * returns data where there is traffic for it, and an error burst fires PredictionErrorRateHigh, which
 * Alertmanager delivers to the webhook.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app-factory';
import { DEFAULT_METRICS, JOB, METRICS } from '../../src/metrics/metric-names';
import { MetricsLifecycle } from '../../src/metrics/metrics.module';
import { createCacheDir, removeCacheDir, TEST_ENV } from '../support/test-app';
import { MonitoringStack } from './support/stack';
import { describeWithTools, loadRuleGroups, ROOT, waitFor } from './support/tools';

jest.setTimeout(180_000);

const DASHBOARD_DIR = join(ROOT, 'config', 'grafana', 'dashboards');
/** The alert under test; the test copy of the rules fires it on the first evaluation above its threshold. */
const ERROR_ALERT = 'PredictionErrorRateHigh';

interface PanelJson {
  title?: string;
  type: string;
  targets?: Array<{ expr?: string; refId?: string }>;
  panels?: PanelJson[];
}

/** Every panel query of every dashboard, with Grafana's variables replaced as Grafana would for "All". */
function dashboardQueries(): Array<{ where: string; expr: string }> {
  const flatten = (panels: PanelJson[]): PanelJson[] => panels.flatMap((p) => [p, ...flatten(p.panels ?? [])]);
  return readdirSync(DASHBOARD_DIR)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as { panels: PanelJson[] };
      return flatten(dashboard.panels).flatMap((panel) =>
        (panel.targets ?? []).map((t) => ({
          where: `${file} "${panel.title}" ${t.refId}`,
          expr: (t.expr ?? '').replaceAll('$job', JOB.service).replaceAll('$instance', '.*').replaceAll('$__rate_interval', '10s').replaceAll('$__range', '5m'),
        })),
      );
    });
}

/**
 * Queries that stay empty against this deployment, and why. Every other panel query must return data.
 *  - GPU gauges: only exposed while the CUDA provider runs (the tests run on the CPU);
 *  - DCGM exporter series: no DCGM exporter is scraped here.
 */
const EXPECTED_EMPTY = [/qwen3guard_gpu_memory_used_bytes/, /qwen3guard_gpu_memory_total_bytes/, /qwen3guard_gpu_utilization_ratio/, /DCGM_FI_DEV_/];

/** Requests sent in rounds until stopped; each round is bounded by the round count and the deadline. */
class Traffic {
  private stopped = false;
  private errorsPerRound = 0;
  private running: Promise<void> | undefined;
  readonly statuses = new Map<number, number>();

  constructor(private readonly api: string) {}

  start(maxRounds = 600, maxMs = 150_000): void {
    const deadline = Date.now() + maxMs;
    this.running = (async () => {
      for (let round = 0; round < maxRounds && !this.stopped && Date.now() < deadline; round++) {
        // A verdict every round (alternately unsafe/Violent and safe/None), a probe, the OpenAI route.
        await this.send('POST', round % 2 ? '/predict' : '/v1/moderations', round % 2 ? { text: 'a gun' } : { input: 'hello there' });
        await this.send('GET', '/health/live');
        for (let i = 0; i < this.errorsPerRound; i++) {
          await this.send('POST', '/predict', '{"text": unquoted'); // 400 INVALID_JSON
          await this.send('GET', '/no/such/route'); // 404
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
  }

  /** From now on, each round also sends `errors` invalid-JSON and `errors` unknown-route requests. */
  burst(errors: number): void {
    this.errorsPerRound = errors;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async send(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.api}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    await response.arrayBuffer();
    this.statuses.set(response.status, (this.statuses.get(response.status) ?? 0) + 1);
  }
}

describeWithTools('the real service scraped by Prometheus, alerting through Alertmanager', ['prometheus', 'alertmanager', 'nodeExporter'], (bin) => {
  const stack = new MonitoringStack(bin);
  let app: NestFastifyApplication;
  let cacheDir = '';
  let traffic: Traffic;

  beforeAll(async () => {
    cacheDir = createCacheDir();
    // One onnxruntime thread: the machine also runs Prometheus, Alertmanager and node exporter.
    app = await createApp({ ...TEST_ENV, QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_THREADS: '1' });
    await app.listen(0, '127.0.0.1');
    const api = await app.getUrl();
    await waitFor('the demo model', async () => ((await fetch(`${api}/health/ready`)).status === 200 ? true : undefined), 90_000, 100);

    const metricsUrl = new URL(app.get(MetricsLifecycle).url ?? '');
    await stack.start({
      serviceTarget: metricsUrl.host,
      // Only the alert under test fires at once; every other alert keeps its production `for:` (minutes),
      // so nothing else can fire (or inhibit it) during the test.
      rules: (groups) => {
        for (const group of groups) for (const rule of group.rules) if ('alert' in rule && rule.alert === ERROR_ALERT) rule.for = '0s';
      },
    });
    traffic = new Traffic(api);
    traffic.start();
  });

  afterAll(async () => {
    await traffic?.stop();
    await stack.stop();
    await app?.close();
    if (cacheDir) removeCacheDir(cacheDir);
  });

  it("answers the tutorial's two queries: qwen3guard_request_count_total and node_memory_MemAvailable_bytes", async () => {
    await stack.queryUntilData(`${METRICS.requestCount.name}{endpoint="/predict"}`);
    const requests = await stack.query(METRICS.requestCount.name);
    for (const s of requests) {
      expect(Object.keys(s.metric).sort()).toEqual(['__name__', 'code', 'endpoint', 'host', 'instance', 'job', 'method', 'status', 'tenant']);
      expect(s.metric).toMatchObject({ job: JOB.service, host: '127.0.0.1' });
    }
    const endpoints = new Set(requests.map((s) => s.metric.endpoint));
    expect([...endpoints].every((e) => e === 'unmatched' || e.startsWith('/'))).toBe(true);
    expect(endpoints).toContain('/predict');

    const memory = await stack.queryUntilData('node_memory_MemAvailable_bytes');
    expect(memory[0].metric.job).toBe(JOB.nodeExporter);
    expect(Number(memory[0].value[1])).toBeGreaterThan(0);
  });

  it("joins the service's process with its host through the `host` label (ProcessMemoryHigh's expression)", async () => {
    const ratio = await stack.queryUntilData(
      `${DEFAULT_METRICS.processResidentMemory.name}{job="${JOB.service}"} / on (host) group_left () node_memory_MemTotal_bytes{job="${JOB.nodeExporter}"}`,
    );
    expect(ratio).toHaveLength(1);
    expect(Number(ratio[0].value[1])).toBeGreaterThan(0);
    expect(Number(ratio[0].value[1])).toBeLessThan(1);
  });

  it('loads every rule group of alerts.yml, and every rule evaluates without error', async () => {
    const groups = await waitFor('every rule evaluated', async () => {
      const loaded = await stack.ruleGroups();
      return loaded.every((g) => g.rules.every((r) => !r.lastEvaluation.startsWith('0001'))) ? loaded : undefined;
    });
    expect(groups.map((g) => g.name).sort()).toEqual(
      loadRuleGroups()
        .map((g) => g.name)
        .sort(),
    );
    const unhealthy = groups.flatMap((g) => g.rules.filter((r) => r.health !== 'ok' || r.lastError).map((r) => `${g.name}/${r.name}: ${r.lastError}`));
    expect(unhealthy).toEqual([]);
  });

  it('evaluates every Grafana panel query without error; all with traffic behind them return data', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(30);
    // A few rounds of traffic inside the panels' 10 s rate window first.
    await stack.queryUntilData(`sum(rate(${METRICS.verdicts.name}{category!="None"}[10s])) > 0`);
    await stack.queryUntilData(`sum(rate(${METRICS.prefill.name}_count[10s])) > 0`);

    const empty: string[] = [];
    const unexpectedlyEmpty: string[] = [];
    for (const { where, expr } of queries) {
      const result = await stack.query(expr); // throws on a PromQL error
      const expectEmpty = EXPECTED_EMPTY.some((re) => re.test(expr));
      if (result.length === 0) (expectEmpty ? empty : unexpectedlyEmpty).push(`${where}: ${expr}`);
      else expect({ where, expectEmpty }).toEqual({ where, expectEmpty: false });
    }
    expect(unexpectedlyEmpty).toEqual([]);
    expect(empty.length).toBe(queries.filter((q) => EXPECTED_EMPTY.some((re) => re.test(q.expr))).length);
  });

  it("fills the dashboards' job variable from the service's series", async () => {
    const jobs = await stack.api<string[]>(`/api/v1/label/job/values?match[]=${encodeURIComponent(METRICS.requestCount.name)}`);
    expect(jobs).toEqual([JOB.service]);
  });

  it(`an error burst fires ${ERROR_ALERT}, and Alertmanager delivers it to the webhook`, async () => {
    const firing = async () =>
      (await stack.api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>('/api/v1/alerts')).alerts.filter(
        (a) => a.labels.alertname === ERROR_ALERT,
      );
    // Healthy traffic first: the alert is evaluated and quiet.
    await stack.queryUntilData(`sum by (job) (rate(${METRICS.requestCount.name}[5m])) > 0`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await firing()).toEqual([]);
    expect(stack.receiver.alerts().filter((a) => a.labels.alertname === ERROR_ALERT)).toEqual([]);

    traffic.burst(4);
    const delivered = await waitFor(
      `${ERROR_ALERT} at the webhook`,
      async () => stack.receiver.alerts().find((a) => a.labels.alertname === ERROR_ALERT && a.status === 'firing'),
      60_000,
      250,
    ).catch((error) => {
      throw new Error(`${error}\nstatuses sent: ${JSON.stringify([...traffic.statuses])}\n${stack.output()}`);
    });
    expect(delivered.receiver).toBe('page');
    expect(delivered.labels).toMatchObject({ alertname: ERROR_ALERT, severity: 'critical', service: JOB.service, job: JOB.service });
    expect(delivered.annotations.summary).toContain('error ratio above 10 %');
    expect(delivered.annotations.description).toMatch(/^\d+(\.\d+)?% of requests to qwen3guard-gen-web ended with status="error"/);
    expect(delivered.annotations.runbook_url).toBe('docs/runbooks.md#predictionerrorratehigh');
    expect((await firing()).map((a) => a.state)).toEqual(['firing']);
    expect(traffic.statuses.get(400)).toBeGreaterThan(0);
    expect(traffic.statuses.get(404)).toBeGreaterThan(0);
  });
});
