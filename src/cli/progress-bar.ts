import { Options, Presets, SingleBar } from 'cli-progress';

/**
 * A progress bar on stderr, so that stdout carries only results. Where stderr is not a terminal (CI logs,
 * a pipe) it prints a plain line every two seconds instead of redrawing.
 */
export function createProgressBar(unit: 'bytes' | 'count'): SingleBar {
  const options: Options = {
    stream: process.stderr,
    format: '{bar} {percentage}% | {value} of {total} | ETA {eta_formatted} | {label}',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 2000,
  };
  if (unit === 'bytes') options.formatValue = (value, _options, type) => (type === 'value' || type === 'total' ? megabytes(value) : String(value));
  return new SingleBar(options, Presets.shades_classic);
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
