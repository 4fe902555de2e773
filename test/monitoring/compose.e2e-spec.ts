/**
 * docker-compose.yml and the files it mounts (Grafana provisioning, Loki, Promtail): valid for
 * `docker-compose config`, the tutorial's ports, one rule file, and mounts that exist.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { JOB } from '../../src/metrics/metric-names';
import { describeWithTools, readYaml, ROOT, run } from './support/tools';

jest.setTimeout(60_000);

const compose = readYaml(join(ROOT, 'docker-compose.yml'));
const services = compose.services as Record<string, any>;
/** A service's published ports as they are when no port variable (API_PORT, ...) is set. */
const defaultPorts = (name: string): string[] => (services[name].ports as string[]).map((port) => port.replace(/^\$\{[A-Z_]+_PORT:-(\d+)\}:/, '$1:'));

describe('docker-compose.yml (static)', () => {
  it('runs the service from the Dockerfile with the API on 8080 and metrics on 8000', () => {
    expect(services[JOB.service]).toMatchObject({ build: '.', image: 'qwen3guard-gen-web' });
    expect(defaultPorts(JOB.service)).toEqual(['8080:8080', '8000:8000']);
  });

  it('runs prometheus, alertmanager, node-exporter and grafana by default, loki and promtail under the logs profile', () => {
    for (const name of ['prometheus', 'alertmanager', 'node-exporter', 'grafana']) {
      expect(services[name]).toBeDefined();
      expect(services[name].profiles).toBeUndefined();
    }
    for (const name of ['loki', 'promtail']) expect(services[name].profiles).toEqual(['logs']);
    expect(defaultPorts('node-exporter')).toEqual(['9100:9100']);
    expect(defaultPorts('alertmanager')).toEqual(['9093:9093']);
  });

  it('shares the usage ledger and rate limits through the postgres and redis services, started healthy first', () => {
    expect(services.postgres.image).toMatch(/^postgres:\d+$/);
    expect(services.redis.image).toMatch(/^redis:\d+$/);
    for (const name of ['postgres', 'redis']) {
      expect(services[name].profiles).toBeUndefined();
      expect(services[name].healthcheck.test[0]).toBe('CMD');
      expect(services[JOB.service].depends_on[name]).toEqual({ condition: 'service_healthy' });
    }
    const database = new URL(services[JOB.service].environment.QWEN3GUARD_DATABASE_URL.replace('${POSTGRES_PASSWORD:-qwen3guard}', 'secret'));
    expect([database.protocol, database.hostname, database.port, database.username, database.pathname]).toEqual([
      'postgres:',
      'postgres',
      '5432',
      services.postgres.environment.POSTGRES_USER,
      `/${services.postgres.environment.POSTGRES_DB}`,
    ]);
    expect(services.postgres.environment.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD:-qwen3guard}');
    expect(services[JOB.service].environment.QWEN3GUARD_REDIS_URL).toBe('redis://redis:6379');
    expect(services.postgres.healthcheck.test).toEqual(['CMD', 'pg_isready', '-U', database.username, '-d', database.pathname.slice(1)]);
    // Neither is published on the host: only the service reaches them.
    expect([services.postgres.ports, services.redis.ports]).toEqual([undefined, undefined]);
  });

  it('every bind mount of the repository points at an existing file or folder', () => {
    const mounts = Object.values(services).flatMap((s: any) => (s.volumes ?? []) as string[]);
    const local = mounts.filter((m) => m.startsWith('./'));
    expect(local.length).toBeGreaterThanOrEqual(5);
    for (const m of local) expect([m, existsSync(join(ROOT, m.split(':')[0]))]).toEqual([m, true]);
  });

  it('Prometheus uses the compose variant of the config, next to the single alerts.yml', () => {
    expect(services.prometheus.volumes).toContain('./config/prometheus:/etc/prometheus:ro');
    expect(services.prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.compose.yml');
    const promConfig = readYaml(join(ROOT, 'config/prometheus/prometheus.compose.yml'));
    const targets = promConfig.scrape_configs.flatMap((s: any) => s.static_configs.flatMap((c: any) => c.targets));
    // Every scrape target is a compose service (or Prometheus itself).
    for (const t of targets) expect(Object.keys(services).concat('localhost')).toContain(t.split(':')[0]);
  });

  it('Alertmanager gets its webhook URL from ALERT_WEBHOOK_URL, substituted for the file default', () => {
    expect(services.alertmanager.entrypoint.join(' ')).toContain('s#http://localhost:5001/alerts#$${ALERT_WEBHOOK_URL}#g');
    expect(services.alertmanager.environment.ALERT_WEBHOOK_URL).toMatch(/^\$\{ALERT_WEBHOOK_URL:-http:\/\/.+\/alerts\}$/);
  });

  it('Loki keeps a single-binary filesystem store and Promtail ships the service container logs to it', () => {
    const loki = readYaml(join(ROOT, 'config/loki/loki.yml'));
    expect(loki.auth_enabled).toBe(false);
    expect(loki.server.http_listen_port).toBe(3100);
    expect(loki.schema_config.configs[0]).toMatchObject({ store: 'tsdb', object_store: 'filesystem', schema: 'v13' });
    expect(services.loki.command).toContain('-config.file=/etc/loki/loki.yml');

    const promtail = readYaml(join(ROOT, 'config/promtail/promtail.yml'));
    expect(promtail.clients).toEqual([{ url: 'http://loki:3100/loki/api/v1/push' }]);
    const job = promtail.scrape_configs.find((s: any) => s.job_name === JOB.service);
    expect(job.docker_sd_configs[0].filters).toEqual([{ name: 'label', values: [`com.docker.compose.service=${JOB.service}`] }]);
    const stages = job.pipeline_stages.map((s: Record<string, unknown>) => Object.keys(s)[0]);
    expect(stages).toEqual(['json', 'template', 'labels', 'timestamp']);
    // Only bounded values become labels.
    expect(Object.keys(job.pipeline_stages[2].labels)).toEqual(['level']);
    expect(services.promtail.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
    expect(services.promtail.command).toContain('-config.file=/etc/promtail/promtail.yml');
  });

  it('Grafana provisions the Prometheus and Loki data sources the dashboards and logs use', () => {
    const ds = readYaml(join(ROOT, 'config/grafana/provisioning/datasources/prometheus.yml'));
    expect(ds.datasources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' }),
        expect.objectContaining({ uid: 'loki', type: 'loki', url: 'http://loki:3100' }),
      ]),
    );
    expect(services.grafana.volumes).toContain('./config/grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});

describeWithTools('docker-compose config', ['dockerCompose'], ({ dockerCompose }) => {
  it.each([[[]], [['--profile', 'logs']]])('docker-compose %j config -q passes', async (profile) => {
    const result = await run(dockerCompose, ['-f', join(ROOT, 'docker-compose.yml'), ...profile, 'config', '-q']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
