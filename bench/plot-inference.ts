/**
 * Draws the inference benchmark's median latencies (concurrency 1, per text length, prompt and response
 * mode) as an SVG bar chart on a log scale, for docs/performance.md:
 *
 *   npx tsx bench/plot-inference.ts bench/results/inference-<...>.json [more results ...] docs/images/inference-latency.svg [dtype]
 *
 * Several result files are read in order, and a cell measured twice keeps the last (as table-inference.ts does).
 * Plain SVG text: the chart is a handful of rectangles, and a file that diffs as text.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InferenceCell, readInferenceResults } from './support/inference-results';

const SYSTEMS = [
  { key: 'a-engine', label: '(a) this engine', colour: '#2b7a3d' },
  { key: 'b-plain-greedy', label: '(b) plain greedy', colour: '#b5651d' },
  { key: 'c-transformers-js', label: '(c) transformers.js', colour: '#5b5ea6' },
  { key: 'd-llama-cpp', label: '(d) llama.cpp, prefix kept', colour: '#a23b72' },
];
const WIDTH = 860;
const HEIGHT = 420;
const PLOT = { left: 70, right: 20, top: 50, bottom: 80 };

function main(): void {
  const args = process.argv.slice(2);
  const inputs = args.filter((arg) => arg.endsWith('.json'));
  const output = args.find((arg) => arg.endsWith('.svg'));
  const dtype = args.find((arg) => !arg.endsWith('.json') && !arg.endsWith('.svg')) ?? 'fp32';
  if (inputs.length === 0 || !output) throw new Error('usage: plot-inference.ts <results.json> [...] <chart.svg> [dtype]');
  const results = inputs.map(readInferenceResults);
  const measured = new Map<string, InferenceCell>();
  for (const cell of results.flatMap((result) => result.cells))
    measured.set(`${cell.system} ${cell.dtype} ${cell.textTokens} ${cell.mode} ${cell.concurrency}`, cell);
  const cells = [...measured.values()].filter((c) => c.concurrency === 1 && c.dtype === dtype);
  if (cells.length === 0) throw new Error(`${inputs.join(', ')} have no concurrency-1 cells for ${dtype}`);
  const date = results
    .map((result) => result.date.slice(0, 10))
    .sort()
    .at(-1)!;
  const commit = [...new Set(results.map((result) => result.commit))].join(', ');
  const groups = [...new Set(cells.map((c) => `${c.textTokens} ${c.mode}`))];
  const at = (group: string, system: string) => cells.find((c) => `${c.textTokens} ${c.mode}` === group && c.system === system);
  const values = cells.map((c) => c.p50Ms);
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.ceil(Math.log10(Math.max(...values)));
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const y = (ms: number) => PLOT.top + plotHeight * (1 - (Math.log10(ms) - low) / (high - low));
  const groupWidth = plotWidth / groups.length;
  const barWidth = (groupWidth * 0.8) / SYSTEMS.length;

  const parts: string[] = [];
  for (let power = low; power <= high; power++) {
    const ms = 10 ** power;
    parts.push(`<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PLOT.left - 8}" y="${y(ms) + 4}" text-anchor="end">${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}</text>`);
  }
  groups.forEach((group, g) => {
    const x0 = PLOT.left + g * groupWidth + groupWidth * 0.1;
    SYSTEMS.forEach((system, s) => {
      const cell = at(group, system.key);
      if (!cell) return;
      const top = y(cell.p50Ms);
      parts.push(
        `<rect x="${(x0 + s * barWidth).toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(PLOT.top + plotHeight - top).toFixed(1)}" fill="${system.colour}"><title>${system.label}, ${group}: p50 ${Math.round(cell.p50Ms)} ms</title></rect>`,
      );
    });
    const [tokens, mode] = group.split(' ');
    parts.push(`<text x="${(x0 + groupWidth * 0.4).toFixed(1)}" y="${HEIGHT - PLOT.bottom + 18}" text-anchor="middle">${tokens} tokens</text>`);
    parts.push(`<text x="${(x0 + groupWidth * 0.4).toFixed(1)}" y="${HEIGHT - PLOT.bottom + 34}" text-anchor="middle">${mode}</text>`);
  });
  SYSTEMS.forEach((system, s) => {
    parts.push(`<rect x="${PLOT.left + s * 195}" y="${HEIGHT - 24}" width="12" height="12" fill="${system.colour}"/>`);
    parts.push(`<text x="${PLOT.left + s * 195 + 18}" y="${HEIGHT - 14}">${system.label}</text>`);
  });
  const title = `Median latency at concurrency 1, ${dtype}, log scale (${date}, ${commit})`;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${title}</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, svg + '\n');
}

main();
