import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { DestinationStream } from 'pino';
import { applicationOptions, configureApp, createFastifyAdapter } from '../../src/app-factory';
import { AppModule } from '../../src/app.module';
import { LOG_DESTINATION } from '../../src/common/logging/logging.module';
import { EnvSource, loadAppConfig } from '../../src/config/load-app-config';
import { Registry } from 'prom-client';
import { ModerationEngine, OnnxModerationEngine } from '../../src/inference';
import { parseExposition, Sample } from './exposition';

/**
 * A fresh cache directory for one suite (remove it with removeCacheDir): the demo model is rebuilt
 * from the current code every run, never taken from an older build left on the machine.
 */
export function createCacheDir(): string {
  return mkdtempSync(join(tmpdir(), 'qwen3guard-e2e-'));
}

export function removeCacheDir(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
}

/**
 * Quiet logs, loopback, the metrics listener on a free port (never the default 8000) and a usage ledger in
 * memory; suites add a cache directory and their own limits on top.
 */
/**
 * The queue wait limit is off: suites send concurrent requests on shared CI machines, where the measured
 * batch rate says nothing about the service (the limit has its own tests: batch-scheduler.spec, overload bench).
 */
export const TEST_ENV: EnvSource = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'fatal',
  HOST: '127.0.0.1',
  METRICS_PORT: '0',
  QWEN3GUARD_USAGE_DB: ':memory:',
  QWEN3GUARD_MAX_QUEUE_WAIT_MS: '0',
};

export interface TestAppOptions {
  env?: EnvSource;
  /** Replaces the configured engine (always a real one: these suites use no mocks). */
  engine?: ModerationEngine;
  /** Where the application's log lines go instead of stdout (a suite that reads its own logs). */
  logDestination?: DestinationStream;
}

/**
 * The application as createApp builds it (same module, adapter, options and configuration step),
 * through @nestjs/testing so a suite can swap the engine. Initialised and ready for inject().
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<NestFastifyApplication> {
  const config = loadAppConfig({ ...process.env, ...TEST_ENV, ...options.env });
  const builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  if (options.engine) builder.overrideProvider(ModerationEngine).useValue(options.engine);
  if (options.logDestination) builder.overrideProvider(LOG_DESTINATION).useValue(options.logDestination);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(config), applicationOptions());
  configureApp(app, config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** Every sample in the application's metrics registry, as /metrics would serve them. */
export async function registrySamples(app: NestFastifyApplication): Promise<Sample[]> {
  return parseExposition(await app.get(Registry).metrics());
}

/** A real engine pointed at a directory that does not exist: its load fails, so it never becomes ready. */
export function engineThatFailsToLoad(): OnnxModerationEngine {
  return new OnnxModerationEngine({
    modelDir: join(tmpdir(), 'qwen3guard-gen-web-no-such-model'),
    dtype: 'fp32',
    provider: 'cpu',
    maxNewTokens: 16,
    demo: false,
  });
}

/** Polls the readiness probe, as an orchestrator would, until the model has loaded and warmed up. */
export async function waitUntilReady(app: NestFastifyApplication, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const probe = await app.inject({ method: 'GET', url: '/health/ready' });
    if (probe.statusCode === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the model was not ready after ${timeoutMs} ms`);
}

/** POSTs a JSON body (already serialised, or an object to serialise), with any extra headers. */
export function postJson(app: NestFastifyApplication, url: string, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** What every moderation endpoint answers once the model failed to load: the reason, and no Retry-After (retrying cannot help). */
export function expectModelFailed(response: Awaited<ReturnType<typeof postJson>>, reason: RegExp): void {
  expect(response.statusCode).toBe(503);
  expect(response.headers['retry-after']).toBeUndefined();
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', code: 'MODEL_INVALID' });
  expect(body.message).toMatch(/^the model failed to load; the service cannot moderate until it is restarted with a working model: /);
  expect(body.message).toMatch(reason);
}

/** What every moderation endpoint answers while the model is not ready. */
export function expectModelNotReady(response: Awaited<ReturnType<typeof postJson>>): void {
  expect(response.statusCode).toBe(503);
  expect(response.headers['retry-after']).toBe('10');
  expect(response.json()).toEqual({
    statusCode: 503,
    error: 'Service Unavailable',
    code: 'MODEL_NOT_READY',
    message: 'the model is not ready yet; retry later',
  });
}
