/**
 * The alert rules' arithmetic on controlled traffic: Prometheus (repository prometheus.yml and alerts.yml)
 * -> Alertmanager (repository alertmanager.yml) -> webhook, scraping a stand-in target.
 *
 * The real service is scraped by the same stack in service-prometheus.e2e-spec.ts; what this suite adds is
 * traffic the real service cannot produce on demand: an exact 10 % of server errors (5xx) among valid
 * requests, an exact 10 % of requests slower than 2 s, probes that must be left out, and a target labelled
 * `environment="production"`. So it can assert the SLI recording rules' exact values, the fast burn-rate
 * page, the inhibition of its warning twin, and DemoModelServing's delivery with its runbook link.
 *
 * The stand-in uses the service's own instruments (ServiceMetrics, PrometheusEngineObserver), so the series
 * are exactly the service's; only the numbers are scripted. Timings differ from production: `for: 0s`
 * here, 1 s intervals and group waits (see support/stack.ts).
 */
import { createServer, Server } from 'node:http';
import { JOB } from '../../src/metrics/metric-names';
import { PrometheusEngineObserver } from '../../src/metrics/prometheus-engine-observer';
import { createMetricsRegistry, ServiceMetrics } from '../../src/metrics/service-metrics';
import { MonitoringStack } from './support/stack';
import { describeWithTools, freePort, waitFor } from './support/tools';

jest.setTimeout(90_000);

/** Every scrape adds one "minute" of scripted traffic, then renders the registry. */
function standInTarget(): Server {
  const metrics = new ServiceMetrics(createMetricsRegistry(), true);
  new PrometheusEngineObserver(metrics, '0.0.0-stand-in').modelLoaded(
    { id: 'qwen3guard-gen-demo', dtype: 'fp32', provider: 'cpu', demo: true, directory: '/demo' },
    2,
  );
  return createServer(async (_req, res) => {
    // /predict: 9 successes + 1 server error (10 % of valid requests) + 5 client errors (not valid);
    // probes: 3 (left out of the SLIs). Latency: 9 fast + 1 slow on /predict (10 % slow); slow probes.
    metrics.requestCount.inc({ method: 'POST', endpoint: '/predict', status: 'success', code: '200' }, 9);
    metrics.requestCount.inc({ method: 'POST', endpoint: '/predict', status: 'error', code: '500' }, 1);
    metrics.requestCount.inc({ method: 'POST', endpoint: '/predict', status: 'error', code: '400' }, 5);
    metrics.requestCount.inc({ method: 'GET', endpoint: '/health/ready', status: 'success', code: '200' }, 3);
    for (let i = 0; i < 9; i++) metrics.requestDuration.observe({ endpoint: '/predict' }, 0.1);
    metrics.requestDuration.observe({ endpoint: '/predict' }, 3);
    for (let i = 0; i < 3; i++) metrics.requestDuration.observe({ endpoint: '/health/ready' }, 5);
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
  });
}

describeWithTools(
  'alert rules on controlled traffic (stand-in target, real Prometheus and Alertmanager)',
  ['prometheus', 'alertmanager', 'nodeExporter'],
  (bin) => {
    const stack = new MonitoringStack(bin);
    const target = standInTarget();

    beforeAll(async () => {
      const port = await freePort();
      await new Promise<void>((resolve) => target.listen(port, '127.0.0.1', resolve));
      await stack.start({
        serviceTarget: `127.0.0.1:${port}`,
        serviceLabels: { environment: 'production' },
        rules: (groups) => {
          for (const group of groups) for (const rule of group.rules) if ('alert' in rule) rule.for = '0s';
        },
      });
    });

    afterAll(async () => {
      await stack.stop();
      target.closeAllConnections();
      await new Promise<void>((resolve) => target.close(() => resolve()));
    });

    it('recording rules compute the SLIs as documented: 5xx over valid requests, share slower than 2 s, probes excluded', async () => {
      const value = async (record: string) => Number((await stack.queryUntilData(`${record}{job="${JOB.service}"}`))[0].value[1]);
      expect(await value('job:qwen3guard_request_errors:ratio_rate5m')).toBeCloseTo(0.1, 6);
      expect(await value('job:qwen3guard_request_slow:ratio_rate5m')).toBeCloseTo(0.1, 6);
    });

    it('every rule, firing ones included, evaluates without errors', async () => {
      const rules = await waitFor('all rules evaluated', async () => {
        const all = (await stack.ruleGroups()).flatMap((g) => g.rules);
        return all.every((r) => !r.lastEvaluation.startsWith('0001')) ? all : undefined;
      });
      expect(rules.length).toBeGreaterThan(20);
      expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
    });

    it('a firing alert reaches the webhook through the page receiver with its runbook link', async () => {
      const demo = await waitFor(
        'DemoModelServing at the receiver',
        async () => stack.receiver.alerts().find((a) => a.labels.alertname === 'DemoModelServing' && a.status === 'firing'),
        30_000,
      );
      expect(demo.receiver).toBe('page');
      expect(demo.labels).toMatchObject({ severity: 'critical', service: JOB.service, job: JOB.service, environment: 'production' });
      expect(demo.annotations.runbook_url).toBe('docs/runbooks.md#demomodelserving');
      expect(demo.annotations.description).toContain('qwen3guard_demo_model = 1');
      // The 10 % server errors also page (fast burn) under the availability SLO.
      const burn = await waitFor(
        'AvailabilityErrorBudgetBurn at the receiver',
        async () => stack.receiver.alerts().find((a) => a.labels.alertname === 'AvailabilityErrorBudgetBurn' && a.labels.severity === 'critical'),
        30_000,
      );
      expect(burn.receiver).toBe('page');
      // Its warning twin fires in Prometheus but is inhibited in Alertmanager.
      expect(stack.receiver.alerts().some((a) => a.labels.alertname === 'AvailabilityErrorBudgetBurn' && a.labels.severity === 'warning')).toBe(false);
    });
  },
);
