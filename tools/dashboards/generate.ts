/**
 * Writes the Grafana dashboards built in TypeScript to the JSON files Grafana provisions
 * (config/grafana/dashboards/). Run `npm run dashboards` after changing a dashboard or a metric name;
 * `npm run dashboards -- --check` only reports drift (exit code 1), as the unit test does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildOverviewDashboard } from './overview';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const DASHBOARD_DIR = join('config', 'grafana', 'dashboards');

export interface GeneratedDashboard {
  /** Repository-relative path of the JSON file. */
  file: string;
  build: () => Dashboard;
}

export const DASHBOARDS: readonly GeneratedDashboard[] = [{ file: join(DASHBOARD_DIR, 'qwen3guard-overview.json'), build: buildOverviewDashboard }];

/** Stable panel ids (1, 2, ... in layout order) and a stable JSON text with a final newline. */
export function renderDashboard(dashboard: Dashboard): string {
  let id = 0;
  for (const panel of dashboard.panels ?? []) {
    panel.id = ++id;
    for (const nested of (panel as { panels?: Array<{ id?: number }> }).panels ?? []) nested.id = ++id;
  }
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

/** Files whose committed content differs from what the code generates. */
export function findDrift(root = REPO_ROOT): string[] {
  return DASHBOARDS.filter(({ file, build }) => {
    let committed: string;
    try {
      committed = readFileSync(join(root, file), 'utf8');
    } catch {
      return true;
    }
    return committed !== renderDashboard(build());
  }).map(({ file }) => file);
}

function main(argv: string[]): number {
  if (argv.includes('--check')) {
    const drift = findDrift();
    for (const file of drift) console.error(`${file} is out of date: run npm run dashboards`);
    return drift.length ? 1 : 0;
  }
  for (const { file, build } of DASHBOARDS) {
    writeFileSync(join(REPO_ROOT, file), renderDashboard(build()));
    console.log(`wrote ${file}`);
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
