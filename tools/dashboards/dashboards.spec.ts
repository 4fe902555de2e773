import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isKnownMetricName } from '../../src/metrics/metric-names';
import { DASHBOARDS, DASHBOARD_DIR, findDrift, renderDashboard, REPO_ROOT } from './generate';
import { OVERVIEW_UID } from './overview';
import { metricNamesInPromQL } from './promql';

interface PanelJson {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr?: string; refId?: string; datasource?: { uid?: string } }>;
  panels?: PanelJson[];
}

const built = DASHBOARDS.map(({ file, build }) => ({
  file,
  json: JSON.parse(renderDashboard(build())) as { uid: string; panels: PanelJson[]; templating: { list: Array<{ name: string; query?: unknown }> } },
}));

function allPanels(panels: PanelJson[]): PanelJson[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

describe('Grafana dashboards', () => {
  it('committed JSON is what tools/dashboards generates (run `npm run dashboards` after a change)', () => {
    expect(findDrift()).toEqual([]);
  });

  it('renders deterministically', () => {
    for (const { build } of DASHBOARDS) expect(renderDashboard(build())).toBe(renderDashboard(build()));
  });

  describe.each(built)('$file', ({ json }) => {
    const panels = allPanels(json.panels);
    const dataPanels = panels.filter((p) => p.type !== 'row');
    const exprs = [
      ...dataPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr ?? '' }))),
      ...json.templating.list.flatMap((v) => {
        const q = v.query as { query?: string } | string | undefined;
        const text = typeof q === 'string' ? '' : (q?.query ?? '');
        const inner = /^label_values\((.*),\s*\w+\)$/.exec(text)?.[1];
        return inner ? [{ where: `variable ${v.name}`, expr: inner }] : [];
      }),
    ];

    it('queries only metrics from src/metrics/metric-names.ts or known external series', () => {
      expect(exprs.length).toBeGreaterThan(20);
      const unknown = exprs.flatMap(({ where, expr }) =>
        metricNamesInPromQL(expr)
          .filter((n) => !isKnownMetricName(n))
          .map((n) => `${where}: ${n}`),
      );
      expect(unknown).toEqual([]);
    });

    it('gives every data panel a query, a title and the datasource variable', () => {
      for (const p of dataPanels) {
        expect(p.title).toBeTruthy();
        expect(p.targets?.length).toBeGreaterThan(0);
        expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const t of p.targets ?? []) expect(t.expr?.trim()).toBeTruthy();
      }
    });

    it('has unique panel titles', () => {
      const titles = panels.map((p) => p.title);
      expect(titles.filter((t, i) => titles.indexOf(t) !== i)).toEqual([]);
    });

    it('has unique panel ids and panels that do not overlap', () => {
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const cells = new Set<string>();
      for (const p of panels) {
        const g = p.gridPos!;
        expect(g.x + g.w).toBeLessThanOrEqual(24);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            const cell = `${x},${y}`;
            expect(cells.has(cell) ? `${p.title} overlaps at ${cell}` : '').toBe('');
            cells.add(cell);
          }
      }
    });
  });

  it('the overview has the panels operators rely on', () => {
    const overview = built.find((d) => d.json.uid === OVERVIEW_UID)!;
    const titles = allPanels(overview.json.panels).map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'QPS by endpoint',
        'Latency P50 / P95 / P99',
        'Error ratio',
        'Verdict mix',
        'Process CPU',
        'Process memory',
        'Host CPU (node exporter)',
        'Host memory used (node exporter)',
        'GPU memory',
        'GPU utilisation',
        'Queue depth and in-flight requests',
        'Batch size',
        'Prefix cache hit ratio',
        'Model ready',
        'Model served',
      ]),
    );
    const exprs = allPanels(overview.json.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    for (const q of ['0.5', '0.95', '0.99'])
      expect(exprs).toContainEqual(expect.stringContaining(`histogram_quantile(${q}, sum by (le) (rate(qwen3guard_request_duration_seconds_bucket`));
    expect(allPanels(overview.json.panels).find((p) => p.title === 'Verdict mix')?.type).toBe('piechart');
  });

  it('provisioning loads this folder and the datasource uid the dashboards use', () => {
    const provider = parse(readFileSync(join(REPO_ROOT, 'config/grafana/provisioning/dashboards/dashboards.yml'), 'utf8'));
    expect(provider.providers[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } });
    const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'));
    expect(compose.services.grafana.volumes).toContain(`./${DASHBOARD_DIR}:/var/lib/grafana/dashboards:ro`);
    const datasources = parse(readFileSync(join(REPO_ROOT, 'config/grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
    expect(datasources.datasources).toContainEqual(expect.objectContaining({ type: 'prometheus', uid: 'prometheus' }));
    for (const { json } of built) {
      const dsVar = json.templating.list.find((v) => v.name === 'datasource') as { current?: { value?: string } } | undefined;
      expect(dsVar?.current?.value).toBe('prometheus');
    }
  });
});
