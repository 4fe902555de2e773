import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Registry } from 'prom-client';
import { DEFAULT_METRICS, METRICS, MetricDefinition, MetricKey } from './metric-names';
import { counterFor, createMetricsRegistry, gaugeFor, histogramFor, NOT_PRODUCED, ServiceMetrics } from './service-metrics';
import { serviceVersion } from './service-version';

const SRC = join(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('ServiceMetrics', () => {
  it('registers every catalogue entry the service produces, exactly as defined, and nothing else', async () => {
    const metrics = new ServiceMetrics(new Registry(), true);
    const registered = (await metrics.registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: String(m.type), help: m.help }));
    const expected = (Object.entries(METRICS) as Array<[MetricKey, MetricDefinition]>)
      .filter(([key, def]) => def.presence !== 'cuda' && !(key in NOT_PRODUCED) && key !== 'modelLoad')
      .map(([, def]) => ({ name: def.name, type: def.type, help: def.help }));
    expect(registered).toEqual(expected);
  });

  it('registers the model load time once a load finished', async () => {
    const metrics = new ServiceMetrics(new Registry(), false);
    metrics.markModelLoaded(4.25);
    metrics.markModelLoaded(1.5);
    expect(await metrics.registry.getSingleMetricAsString(METRICS.modelLoad.name)).toContain(`${METRICS.modelLoad.name} 1.5`);
  });

  it('reports the configured demo model before any load', async () => {
    expect(await new ServiceMetrics(new Registry(), true).registry.getSingleMetricAsString(METRICS.demoModel.name)).toContain(`${METRICS.demoModel.name} 1`);
    expect(await new ServiceMetrics(new Registry(), false).registry.getSingleMetricAsString(METRICS.demoModel.name)).toContain(`${METRICS.demoModel.name} 0`);
  });

  it('uses the catalogue buckets and label names', async () => {
    const metrics = new ServiceMetrics(new Registry(), false);
    metrics.requestDuration.observe({ endpoint: '/predict' }, 2);
    const text = await metrics.registry.getSingleMetricAsString(METRICS.requestDuration.name);
    const les = [...text.matchAll(/le="([^"]+)"/g)].map((m) => m[1]);
    expect(les).toEqual([...(METRICS.requestDuration.buckets ?? []).map(String), '+Inf']);
    expect(text).toContain('qwen3guard_request_duration_seconds_bucket{le="2",endpoint="/predict"} 1');
  });

  it('refuses to build an instrument of another type than its definition', () => {
    expect(() => counterFor(METRICS.queueDepth, null)).toThrow(/is a gauge/);
    expect(() => gaugeFor(METRICS.requestCount, null)).toThrow(/is a counter/);
    expect(() => histogramFor(METRICS.verdicts, null)).toThrow(/is a counter/);
  });

  it("holds prom-client's default process and Node.js metrics, without prefix, in a per-application registry", async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    new ServiceMetrics(a, false);
    new ServiceMetrics(b, false); // a second application in the same process does not collide
    const names = (await a.getMetricsAsJSON()).map((m) => m.name);
    for (const m of Object.values(DEFAULT_METRICS)) expect(names).toContain(m.name);
  });
});

describe('metric names are written once', () => {
  it('no source file outside metric-names.ts spells a qwen3guard_ series name in code (comments may)', () => {
    const code = (file: string) =>
      readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
    const offenders = sourceFiles(SRC)
      .filter((file) => !file.endsWith(join('metrics', 'metric-names.ts')))
      .flatMap((file) => [...code(file).matchAll(/['"`]qwen3guard_[a-z0-9_]+/g)].map((m) => `${relative(SRC, file)}: ${m[0]}`));
    expect(offenders).toEqual([]);
  });
});

describe('serviceVersion', () => {
  it("is the package's version", () => {
    const pkg = JSON.parse(readFileSync(join(SRC, '..', 'package.json'), 'utf8')) as { version: string };
    expect(serviceVersion()).toBe(pkg.version);
  });

  it('is "unknown" where no package.json of this service is found', () => {
    expect(serviceVersion('/')).toBe('unknown');
  });
});
