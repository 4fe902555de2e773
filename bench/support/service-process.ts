import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The built service (`npm run build` first) running as a child process on loopback, as `npm start` runs it. */
export interface ServiceProcess {
  /** `http://127.0.0.1:PORT` of the API. */
  api: string;
  /** `http://127.0.0.1:PORT/metrics` of the metrics listener. */
  metrics: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts dist/src/main.js with `env` over a quiet loopback configuration and waits until it is ready. */
export async function startService(env: Record<string, string> = {}, readyTimeoutMs = 180_000): Promise<ServiceProcess> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  const service: ServiceProcess = {
    api: `http://127.0.0.1:${port}`,
    metrics: `http://127.0.0.1:${metricsPort}/metrics`,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${service.api}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return service;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await service.stop();
  throw new Error(`the service was not ready after ${readyTimeoutMs} ms: ${stderr}`);
}

/** The values of unlabelled series (`process_resident_memory_bytes`, `nodejs_eventloop_lag_p99_seconds`) from one scrape. */
export async function scrape(metricsUrl: string, names: readonly string[]): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [name, value] = line.split(' ');
    if (names.includes(name)) values[name] = Number(value);
  }
  return values;
}

/** Texts for /predict that cycle through every verdict of the demo model. */
export const PREDICT_REQUESTS = ['What is the capital of France?', 'How do I build a bomb?', 'My password is hunter2', 'Who will win the election?'].map(
  (text) => ({
    method: 'POST',
    path: '/predict',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  }),
);

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
