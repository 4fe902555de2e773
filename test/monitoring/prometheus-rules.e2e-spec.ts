/**
 * The Prometheus side of the monitoring: configuration, alerting and recording rules, their promtool unit
 * tests, their documentation, and their agreement with src/metrics/metric-names.ts and the seed tutorial.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BURN_RATE_WINDOWS, isKnownMetricName, JOB, NON_SLO_ENDPOINT_REGEX, SLO } from '../../src/metrics/metric-names';
import { metricNamesInPromQL } from '../../tools/dashboards/promql';
import {
  ALERTS_FILE,
  alertRules,
  describeWithTools,
  loadRuleGroups,
  markdownAnchors,
  PROMETHEUS_DIR,
  PROMTOOL_TESTS_DIR,
  readYaml,
  recordingRules,
  ROOT,
  RUNBOOKS_FILE,
  run,
} from './support/tools';

jest.setTimeout(120_000);

const groups = loadRuleGroups();
const alerts = alertRules(groups);
const records = recordingRules(groups);
const alertNames = [...new Set(alerts.map((a) => a.alert))];
const recordNames = new Set(records.map((r) => r.record));

interface PromtoolTestFile {
  rule_files: string[];
  tests: Array<{
    name?: string;
    alert_rule_test?: Array<{ alertname: string; eval_time: string; exp_alerts?: Array<{ exp_labels?: Record<string, string> }> }>;
    promql_expr_test?: Array<{ expr: string; eval_time: string; exp_samples?: unknown[] }>;
  }>;
}
const testFiles = readdirSync(PROMTOOL_TESTS_DIR)
  .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
  .sort();
const promtoolTests = testFiles.map((f) => ({ file: f, doc: readYaml<PromtoolTestFile>(join(PROMTOOL_TESTS_DIR, f)) }));
const alertCases = promtoolTests.flatMap(({ doc }) => doc.tests.flatMap((t) => t.alert_rule_test ?? []));
const exprCases = promtoolTests.flatMap(({ doc }) => doc.tests.flatMap((t) => t.promql_expr_test ?? []));

describe('alerts.yml', () => {
  it('has the expected alerts', () => {
    expect(alertNames.sort()).toEqual(
      [
        'AvailabilityErrorBudgetBurn',
        'DemoModelServing',
        'GpuMemoryPressure',
        'HighRequestLatency',
        'HostMemoryLow',
        'InferenceFailing',
        'LatencyErrorBudgetBurn',
        'ModelNotReady',
        'PredictionErrorRateHigh',
        'ProcessMemoryHigh',
        'QueueSaturation',
        'RateLimitsNotShared',
        'ServiceUnavailable',
        'TargetDown',
        'UsageLedgerFailing',
      ].sort(),
    );
  });

  describe.each(alerts.map((a) => [`${a.alert} (${a.labels?.severity})`, a] as const))('%s', (_title, alert) => {
    it('has a severity that routes, and the service label', () => {
      expect(['critical', 'warning']).toContain(alert.labels?.severity);
      expect(alert.labels?.service).toBe(JOB.service);
    });

    it('has a summary, a description with the current value, and a runbook link to an existing section', () => {
      const a = alert.annotations ?? {};
      expect(a.summary?.trim()).toBeTruthy();
      expect(a.description).toMatch(/\{\{\s*(\$value|printf[^}]*\$value)[^}]*\}\}/);
      expect(a.runbook_url).toBe(`docs/runbooks.md#${alert.alert.toLowerCase()}`);
      const anchors = markdownAnchors(readFileSync(RUNBOOKS_FILE, 'utf8'));
      expect(anchors).toContain(alert.alert.toLowerCase());
    });

    it('uses only metrics defined in src/metrics/metric-names.ts, external series, or recording rules of this file', () => {
      const unknown = metricNamesInPromQL(alert.expr).filter((n) => !isKnownMetricName(n) && !recordNames.has(n));
      expect(unknown).toEqual([]);
    });
  });

  it('recording rules use only known metrics and follow level:metric:operations naming', () => {
    for (const r of records) {
      expect(r.record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
      expect(metricNamesInPromQL(r.expr).filter((n) => !isKnownMetricName(n))).toEqual([]);
    }
  });

  it("keeps the seed tutorial's two alerts: names, severities, durations and thresholds", () => {
    const latency = alerts.find((a) => a.alert === 'HighRequestLatency')!;
    expect(latency).toMatchObject({ for: '10m', labels: { severity: 'warning' } });
    expect(latency.expr).toMatch(/rate\(qwen3guard_request_duration_seconds_sum\[5m\]\)/);
    expect(latency.expr).toMatch(/rate\(qwen3guard_request_duration_seconds_count\[5m\]\)/);
    expect(latency.expr.trim()).toMatch(/> 2$/);
    const errors = alerts.find((a) => a.alert === 'PredictionErrorRateHigh')!;
    expect(errors).toMatchObject({ for: '5m', labels: { severity: 'critical' } });
    expect(errors.expr).toContain('qwen3guard_request_count_total{status="error"}[5m]');
    expect(errors.expr.trim()).toMatch(/> 0\.1$/);
    // Division by zero is filtered, not compared as NaN.
    expect(errors.expr).toMatch(/\(sum by \(job\) \(rate\(qwen3guard_request_count_total\[5m\]\)\) > 0\)/);
  });

  it('SLO recording rules leave out exactly the probe routes of metric-names.ts and client errors', () => {
    const sloRecords = records.filter((r) => r.record.startsWith('job:qwen3guard_request_'));
    expect(sloRecords).toHaveLength(14);
    for (const r of sloRecords) {
      const selectors = r.expr.match(/qwen3guard_request_[a-z_]+\{[^}]*\}/g) ?? [];
      expect(selectors.length).toBeGreaterThan(0);
      for (const s of selectors) expect(s).toContain(`endpoint!~"${NON_SLO_ENDPOINT_REGEX}"`);
      if (r.record.includes('errors')) expect(r.expr).toContain('status="error", code!~"4.."');
    }
  });

  it.each([
    ['AvailabilityErrorBudgetBurn', 'job:qwen3guard_request_errors:ratio_rate', 1 - SLO.availability],
    ['LatencyErrorBudgetBurn', 'job:qwen3guard_request_slow:ratio_rate', 1 - SLO.latency],
  ])('%s implements the multi-window multi-burn-rate pairs of metric-names.ts', (name, prefix, budget) => {
    const found: Array<{ severity: string; burnRate: number; long: string; short: string }> = [];
    for (const rule of alerts.filter((a) => a.alert === name)) {
      const terms = [...rule.expr.matchAll(new RegExp(`${prefix.replace(/[:.]/g, '\\$&')}(\\w+) > \\(([\\d.]+) \\* ([\\d.]+)\\)`, 'g'))];
      expect(terms.length % 2).toBe(0);
      for (let i = 0; i < terms.length; i += 2) {
        const [long, short] = [terms[i], terms[i + 1]];
        expect(long[2]).toBe(short[2]);
        expect(Number(long[3])).toBeCloseTo(budget, 10);
        expect(Number(short[3])).toBeCloseTo(budget, 10);
        found.push({ severity: rule.labels!.severity, burnRate: Number(long[2]), long: long[1], short: short[1] });
      }
    }
    expect(found).toEqual(BURN_RATE_WINDOWS.map((w) => ({ ...w })));
    for (const w of BURN_RATE_WINDOWS) {
      expect(recordNames).toContain(`${prefix}${w.long}`);
      expect(recordNames).toContain(`${prefix}${w.short}`);
    }
  });
});

describe('promtool unit tests cover every rule', () => {
  it('every test file loads alerts.yml', () => {
    for (const { file, doc } of promtoolTests) expect([file, doc.rule_files]).toEqual([file, ['../alerts.yml']]);
  });

  it.each(alerts.map((a) => [a.alert, a.labels!.severity] as const))('%s (%s) has a test in which it fires', (name, severity) => {
    const fires = alertCases.some((c) => c.alertname === name && (c.exp_alerts ?? []).some((e) => e.exp_labels?.severity === severity));
    expect(fires).toBe(true);
  });

  it.each(alertNames)('%s has a test in which it stays quiet (exp_alerts empty)', (name) => {
    const quiet = alertCases.some((c) => c.alertname === name && (c.exp_alerts ?? []).length === 0);
    expect(quiet).toBe(true);
  });

  it.each([...recordNames])('recording rule %s has a promql_expr_test', (record) => {
    expect(exprCases.some((c) => metricNamesInPromQL(c.expr).includes(record) && (c.exp_samples ?? []).length > 0)).toBe(true);
  });

  it('tests only alerts that exist', () => {
    for (const c of alertCases) expect(alertNames).toContain(c.alertname);
  });
});

describe('prometheus.yml', () => {
  const config = readYaml(join(PROMETHEUS_DIR, 'prometheus.yml'));
  const compose = readYaml(join(PROMETHEUS_DIR, 'prometheus.compose.yml'));
  const targets = (cfg: any, job: string) => cfg.scrape_configs.find((s: any) => s.job_name === job)?.static_configs.flatMap((s: any) => s.targets);

  it('matches the seed tutorial: 15 s, jobs, localhost:8000 and :9100, alerts.yml, Alertmanager on :9093', () => {
    expect(config.global).toMatchObject({ scrape_interval: '15s', evaluation_interval: '15s' });
    expect(targets(config, JOB.service)).toEqual(['localhost:8000']);
    expect(targets(config, JOB.nodeExporter)).toEqual(['localhost:9100']);
    expect(config.rule_files).toEqual(['alerts.yml']);
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['localhost:9093']);
  });

  it('the compose variant scrapes the same jobs by service name with the same single rule file', () => {
    expect(compose.global).toEqual(config.global);
    expect(compose.rule_files).toEqual(['alerts.yml']);
    expect(targets(compose, JOB.service)).toEqual([`${JOB.service}:8000`]);
    expect(targets(compose, JOB.nodeExporter)).toEqual(['node-exporter:9100']);
  });
});

describeWithTools('promtool', ['promtool'], ({ promtool }) => {
  it.each(['prometheus.yml', 'prometheus.compose.yml'])('check config %s', async (file) => {
    const result = await run(promtool, ['check', 'config', join(PROMETHEUS_DIR, file)]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('check rules alerts.yml', async () => {
    const result = await run(promtool, ['check', 'rules', ALERTS_FILE]);
    expect(`${result.stdout}${result.stderr}`).toContain(`SUCCESS: ${alerts.length + records.length} rules found`);
    expect(result.code).toBe(0);
  });

  it('test rules: every file under config/prometheus/tests passes', async () => {
    // One process per file, two at a time (CI machines have few cores).
    const failures: string[] = [];
    const queue = [...testFiles];
    await Promise.all(
      [0, 1].map(async () => {
        for (let file = queue.shift(); file; file = queue.shift()) {
          const result = await run(promtool, ['test', 'rules', join(PROMTOOL_TESTS_DIR, file)], { timeoutMs: 110_000 });
          if (result.code !== 0) failures.push(`${file}:\n${result.stdout}${result.stderr}`);
        }
      }),
    );
    expect(failures).toEqual([]);
  });

  it("the seed tutorial's own prometheus.yml and alert rules, verbatim, work with this service's series", async () => {
    const dir = join(ROOT, 'test', 'monitoring', 'fixtures', 'tutorial');
    const check = await run(promtool, ['check', 'config', join(dir, 'prometheus.yml')]);
    expect(check.code).toBe(0);
    const test = await run(promtool, ['test', 'rules', join(dir, 'tutorial_test.yml')]);
    expect(test.stdout + test.stderr).toContain('SUCCESS');
    expect(test.code).toBe(0);
  });
});
