/**
 * docker-compose.yml up for real: Debian's docker-compose against podman's Docker-compatible API, the service
 * image built from the Dockerfile, and stand-ins built from Debian's packages for the images no registry serves
 * here (support/stand-in-images.ts). Checks what an operator relies on: Prometheus scrapes the service and the
 * node exporter with every rule loaded, injected errors bring PredictionErrorRateHigh to Alertmanager, and the
 * service's container log (what Promtail ships) holds JSON lines with the tenant and never the text.
 *
 * Every published port is a free one, through the file's port variables. Only what a test cannot wait for is
 * changed, by an override file: Prometheus reads a copy of config/prometheus with 1 s intervals and `for: 0s`
 * on PredictionErrorRateHigh (5 m in production). Grafana, Loki and Promtail have no Debian package and no
 * stand-in: they are not started, and the suite says so.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { JOB } from '../../src/metrics/metric-names';
import { ALERTS_FILE, describeWithTools, freePort, loadRuleGroups, PROMETHEUS_DIR, readYaml, ROOT, run, start, waitFor } from '../monitoring/support/tools';
import { configurePodman, podman, podmanOk } from './support/podman';
import { buildServiceImage } from './support/service-image';
import { ensureStandInImage, hasStandIn } from './support/stand-in-images';

jest.setTimeout(30 * 60_000);

const PROJECT = `qwen3guard-compose-test-${process.pid}`;
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const compose = readYaml(COMPOSE_FILE) as { services: Record<string, { image: string; profiles?: string[] }> };
/** The default profile less Grafana, which has no Debian package to stand in for it. */
const SERVICES = Object.keys(compose.services).filter((name) => !compose.services[name].profiles && name !== 'grafana');
const NOT_STARTED = Object.keys(compose.services).filter((name) => !SERVICES.includes(name));
/** The published ports' variables (docker-compose.yml), each set to a free port. */
const PORT_VARIABLES = ['API_PORT', 'METRICS_PORT', 'PROMETHEUS_PORT', 'ALERTMANAGER_PORT', 'NODE_EXPORTER_PORT'] as const;

const report = (line: string) => process.stdout.write(`[compose] ${line}\n`);

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** config/prometheus with test timings, in a folder Prometheus (user nobody) can read. */
function fastPrometheusConfig(dir: string): string {
  const folder = join(dir, 'prometheus');
  const config = readYaml(join(PROMETHEUS_DIR, 'prometheus.compose.yml'));
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  const alerts = readYaml(ALERTS_FILE);
  for (const group of alerts.groups) for (const rule of group.rules) if (rule.alert === 'PredictionErrorRateHigh') rule.for = '0s';
  mkdirSync(folder);
  writeFileSync(join(folder, 'prometheus.compose.yml'), stringify(config));
  writeFileSync(join(folder, 'alerts.yml'), stringify(alerts));
  for (const path of [dir, folder]) chmodSync(path, 0o755);
  for (const file of ['prometheus.compose.yml', 'alerts.yml']) chmodSync(join(folder, file), 0o644);
  return folder;
}

describeWithTools('docker-compose.yml up under podman', ['podman', 'runc', 'debootstrap', 'dockerCompose'], (tools) => {
  const dir = mkdtempSync(join(tmpdir(), 'qwen3guard-compose-'));
  const socket = join(dir, 'podman.sock');
  const override = join(dir, 'docker-compose.test.yml');
  const ports = {} as Record<(typeof PORT_VARIABLES)[number], number>;
  const url = (variable: keyof typeof ports) => `http://127.0.0.1:${ports[variable]}`;
  let apiService: ReturnType<typeof start> | undefined;
  let projectUp = false;

  const dockerCompose = async (args: string[], timeoutMs = 300_000): Promise<string> => {
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])) };
    const result = await run(tools.dockerCompose, ['-p', PROJECT, '--project-directory', ROOT, '-f', COMPOSE_FILE, '-f', override, ...args], {
      timeoutMs,
      env,
    });
    if (result.code !== 0) throw new Error(`docker-compose ${args.join(' ')} exited ${result.code}:\n${(result.stdout + result.stderr).slice(-6000)}`);
    return result.stdout;
  };

  beforeAll(async () => {
    configurePodman();
    for (const name of NOT_STARTED) {
      report(
        `NOT RUN here: ${name} (${compose.services[name].image}) - no Debian package (nor npm/PyPI binary) to build a stand-in from` +
          (name === 'grafana' ? '; its provisioning is validated by test/monitoring/compose.e2e-spec.ts' : '; see the logs test below'),
      );
    }
    await buildServiceImage(compose.services[JOB.service].image, report);
    for (const name of SERVICES.filter((service) => hasStandIn(compose.services[service].image))) {
      report(`${compose.services[name].image}: ${await ensureStandInImage(compose.services[name].image, report)}`);
    }
    for (const variable of PORT_VARIABLES) ports[variable] = await freePort();
    writeFileSync(override, stringify({ services: { prometheus: { volumes: [`${fastPrometheusConfig(dir)}:/etc/prometheus:ro`] } } }));

    apiService = start(tools.podman, ['--runtime', tools.runc, 'system', 'service', '--time=0', `unix://${socket}`]);
    await waitFor(
      'the podman API socket',
      async () => ((await run('curl', ['-sf', '--unix-socket', socket, 'http://d/_ping'], { timeoutMs: 5000 })).stdout === 'OK' ? true : undefined),
      30_000,
    );
    projectUp = true;
    const started = Date.now();
    await upRunningHealthchecks();
    report(`docker-compose -p ${PROJECT} up -d ${SERVICES.join(' ')}: ${((Date.now() - started) / 1000).toFixed(0)} s; host ports ${JSON.stringify(ports)}`);
  });

  afterAll(async () => {
    if (projectUp) {
      report(`docker-compose ps:\n${await dockerCompose(['ps']).catch((error: Error) => error.message)}`);
      await dockerCompose(['down', '-v', '--remove-orphans', '-t', '30'], 180_000).catch((error: Error) => report(`docker-compose down: ${error.message}`));
      // A container restarting (restart: unless-stopped) can outlive `down`: remove what the project left.
      const label = `label=com.docker.compose.project=${PROJECT}`;
      const left = (await podman(['ps', '-aq', '--filter', label])).stdout.split('\n').filter(Boolean);
      if (left.length > 0) await podman(['rm', '-f', '-v', ...left]);
      const volumes = (await podman(['volume', 'ls', '-q', '--filter', label])).stdout.split('\n').filter(Boolean);
      if (volumes.length > 0) await podman(['volume', 'rm', '-f', ...volumes]);
      await podman(['network', 'rm', '-f', `${PROJECT}_default`]);
    }
    await apiService?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * `up -d`, with the healthchecks run meanwhile: podman starts them from systemd timers, and without systemd
   * (as here) a check runs only when asked, so the service's `depends_on: condition: service_healthy` would wait forever.
   */
  async function upRunningHealthchecks(): Promise<void> {
    let up = true;
    const healthchecks = (async () => {
      while (up) {
        const ids = (await podman(['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', 'health=starting'])).stdout;
        for (const id of ids.split('\n').filter(Boolean)) await podman(['healthcheck', 'run', id]);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    try {
      await dockerCompose(['up', '-d', ...SERVICES], 600_000);
    } finally {
      up = false;
      await healthchecks;
    }
  }

  it('Prometheus scrapes the service and the node exporter, with every rule of alerts.yml loaded', async () => {
    type Targets = { data: { activeTargets: Array<{ labels: { job: string }; health: string }> } };
    const health = await waitFor(
      `the ${JOB.service} and node-exporter targets up`,
      async () => {
        const { data } = await getJson<Targets>(`${url('PROMETHEUS_PORT')}/api/v1/targets`);
        const byJob = Object.fromEntries(data.activeTargets.map((target) => [target.labels.job, target.health]));
        return byJob[JOB.service] === 'up' && byJob['node-exporter'] === 'up' ? byJob : undefined;
      },
      180_000,
      1000,
    );
    report(`Prometheus targets: ${JSON.stringify(health)}`);
    type Rules = { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
    const loaded = (await getJson<Rules>(`${url('PROMETHEUS_PORT')}/api/v1/rules`)).data.groups.flatMap((group) => group.rules);
    const expected = loadRuleGroups().flatMap((group) => group.rules.map((rule) => ('alert' in rule ? rule.alert : rule.record)));
    expect(loaded.map((rule) => rule.name).sort()).toEqual(expected.sort());
    expect(loaded.filter((rule) => rule.health === 'err')).toEqual([]);
  });

  it('with injected errors (requests answered 400), PredictionErrorRateHigh reaches Alertmanager', async () => {
    type Alert = { labels: Record<string, string>; status: { state: string } };
    const alert = await waitFor(
      'PredictionErrorRateHigh in Alertmanager',
      async () => {
        // Bounded: a handful of malformed requests per poll, for at most the wait below.
        for (let i = 0; i < 5; i++) {
          const response = await fetch(`${url('API_PORT')}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":' });
          expect(response.status).toBe(400);
        }
        const alerts = await getJson<Alert[]>(`${url('ALERTMANAGER_PORT')}/api/v2/alerts?filter=alertname%3D%22PredictionErrorRateHigh%22`);
        return alerts[0];
      },
      180_000,
      1000,
    );
    expect(alert.labels).toMatchObject({ alertname: 'PredictionErrorRateHigh', job: JOB.service });
    expect(alert.status.state).toBe('active');
  });

  it("logs JSON lines with the tenant and never the moderated text (Promtail's input; Loki and Promtail are not run here)", async () => {
    const pulls = await Promise.all(
      ['loki', 'promtail'].map(async (name) => {
        const pulled = await podman(['pull', compose.services[name].image], 90_000);
        return `${compose.services[name].image}: ${pulled.code === 0 ? 'pulled, but not run by this suite' : 'cannot be pulled here'}`;
      }),
    );
    report(
      'NOT RUN here: shipping the logs with Promtail and the LogQL query by tenant in Loki. Neither Grafana Loki nor Promtail is ' +
        "packaged by Debian (bookworm, bookworm-backports, trixie: Debian's `loki` is an unrelated genetics program), npm or PyPI " +
        `(${pulls.join('; ')}). Checked instead: the container log Promtail would ship.`,
    );
    const marker = `compose-log-marker-${process.pid}-${Date.now()}`;
    const response = await fetch(`${url('API_PORT')}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: `please moderate ${marker}` }),
    });
    expect(response.status).toBe(200);
    const container = (await dockerCompose(['ps', '-q', JOB.service])).trim().split('\n')[0];
    const served = await waitFor(
      'the access log line of the request',
      async () => {
        const logs = await podmanOk(['logs', container]);
        const lines = logs.split('\n').flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
        const entries = lines.filter((entry) => entry.route === '/predict' && entry.status === 200);
        return entries.length > 0 ? { logs, entries } : undefined;
      },
      30_000,
    );
    expect(served.entries.every((entry) => entry.tenant === 'anonymous')).toBe(true);
    expect(served.logs).not.toContain(marker);
  });
});
