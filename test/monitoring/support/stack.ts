/**
 * The monitoring stack on real binaries, started from the repository's own files for one test suite:
 * node exporter, Alertmanager (config/alertmanager/alertmanager.yml, webhooks pointed at a local receiver)
 * and Prometheus (config/prometheus/prometheus.yml and alerts.yml), everything on 127.0.0.1 free ports.
 *
 * Only what a test cannot wait for is changed: the scrape and evaluation intervals (1 s), Alertmanager's
 * group waits (1 s), the target addresses, and whatever the suite's `rules` callback does to a copy of
 * the rules (e.g. a shorter `for:`). Every wait is bounded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { JOB } from '../../../src/metrics/metric-names';
import { ALERTMANAGER_FILE, ALERTS_FILE, freePort, PROMETHEUS_DIR, readYaml, RuleGroup, start, waitFor } from './tools';
import { WebhookReceiver } from './webhook';

export interface StackBinaries {
  prometheus: string;
  alertmanager: string;
  nodeExporter: string;
}

export interface StackOptions {
  /** `host:port` serving the service's /metrics. */
  serviceTarget: string;
  /** Extra target labels on the service job (e.g. `environment: production`). */
  serviceLabels?: Record<string, string>;
  /** Changes the test copy of alerts.yml in place. */
  rules?: (groups: RuleGroup[]) => void;
}

export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusRule {
  name: string;
  type: 'alerting' | 'recording';
  health: string;
  lastError?: string;
  lastEvaluation: string;
  state?: string;
}

export interface PrometheusRuleGroup {
  name: string;
  rules: PrometheusRule[];
}

/** Only the node exporter collectors the rules and dashboards use (the rest would slow every scrape). */
const NODE_EXPORTER_COLLECTORS = ['--collector.disable-defaults', '--collector.meminfo', '--collector.cpu', '--collector.loadavg'];

export class MonitoringStack {
  readonly receiver = new WebhookReceiver();
  /** Prometheus's base URL. */
  prometheus = '';
  private readonly processes: Array<ReturnType<typeof start>> = [];
  private dir = '';

  constructor(private readonly bin: StackBinaries) {}

  async start(options: StackOptions): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'qwen3guard-stack-'));
    const [nodePort, amPort, promPort] = [await freePort(), await freePort(), await freePort()];
    const webhook = await this.receiver.listen();

    this.processes.push(start(this.bin.nodeExporter, [`--web.listen-address=127.0.0.1:${nodePort}`, ...NODE_EXPORTER_COLLECTORS]));

    const am = readYaml(ALERTMANAGER_FILE);
    for (const receiver of am.receivers) for (const hook of receiver.webhook_configs ?? []) hook.url = webhook;
    const shorten = (route: any) => {
      route.group_wait = '1s';
      route.group_interval = '1s';
      (route.routes ?? []).forEach(shorten);
    };
    shorten(am.route);
    writeFileSync(join(this.dir, 'alertmanager.yml'), stringify(am));
    this.processes.push(
      start(this.bin.alertmanager, [
        `--config.file=${join(this.dir, 'alertmanager.yml')}`,
        `--storage.path=${join(this.dir, 'am-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
      ]),
    );

    const rules = readYaml<{ groups: RuleGroup[] }>(ALERTS_FILE);
    options.rules?.(rules.groups);
    writeFileSync(join(this.dir, 'alerts.yml'), stringify(rules));

    // prometheus.yml as shipped (jobs, relabelling, rule_files, alerting) with local addresses and 1 s intervals.
    const config = readYaml(join(PROMETHEUS_DIR, 'prometheus.yml'));
    config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
    config.alerting.alertmanagers[0].static_configs[0].targets = [`127.0.0.1:${amPort}`];
    for (const scrape of config.scrape_configs) {
      const targets = scrape.static_configs[0];
      if (scrape.job_name === JOB.service) {
        targets.targets = [options.serviceTarget];
        if (options.serviceLabels) targets.labels = options.serviceLabels;
      } else if (scrape.job_name === JOB.nodeExporter) {
        targets.targets = [`127.0.0.1:${nodePort}`];
      }
    }
    writeFileSync(join(this.dir, 'prometheus.yml'), stringify(config));
    this.prometheus = `http://127.0.0.1:${promPort}`;
    this.processes.push(
      start(this.bin.prometheus, [
        `--config.file=${join(this.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.dir, 'prom-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ]),
    );

    await waitFor(
      'both scrape targets up',
      async () => {
        const { activeTargets } = await this.api<{ activeTargets: Array<{ labels: { job: string }; health: string }> }>('/api/v1/targets');
        const up = activeTargets.filter((t) => t.health === 'up').map((t) => t.labels.job);
        return up.includes(JOB.service) && up.includes(JOB.nodeExporter) ? true : undefined;
      },
      30_000,
    ).catch((error) => {
      throw new Error(`${error}\n${this.output()}`);
    });
  }

  /** The last lines each program printed, for failure messages. */
  output(): string {
    return this.processes.map((p) => p.output().slice(-2000)).join('\n---\n');
  }

  /** A Prometheus HTTP API call; throws unless the API answers `success`. */
  async api<T = any>(path: string): Promise<T> {
    const response = await fetch(`${this.prometheus}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
    return body.data;
  }

  async query(expr: string): Promise<InstantSample[]> {
    return (await this.api<{ result: InstantSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
  }

  /** Polls an instant query until it returns at least one sample. */
  async queryUntilData(expr: string, timeoutMs = 20_000): Promise<InstantSample[]> {
    return waitFor(
      expr,
      async () => {
        const result = await this.query(expr);
        return result.length ? result : undefined;
      },
      timeoutMs,
    );
  }

  async ruleGroups(): Promise<PrometheusRuleGroup[]> {
    return (await this.api<{ groups: PrometheusRuleGroup[] }>('/api/v1/rules')).groups;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.receiver.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
