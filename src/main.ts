import { Logger } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app-factory';
import { reportStartupFailure } from './common/logging/startup-failure';
import { AppConfig } from './config/app-config';
import { EnvSource } from './config/load-app-config';
import { installGracefulShutdown } from './lifecycle/graceful-shutdown';
import { describeMetricsEndpoint } from './metrics/metrics.module';
import { configuredModel, DEMO_MODEL_WARNING } from './composition/configured-model';
import { EngineLoader } from './moderation/engine-loader.service';

/** Starts the service; `overrides` are laid over the environment (the CLI's `serve` options). */
async function bootstrap(overrides: EnvSource, failureExitCode: number): Promise<void> {
  const app = await createApp(overrides);
  const config = app.get(AppConfig);
  installGracefulShutdown(app, config);
  await app.listen(config.PORT, config.HOST);
  announce(config, describeMetricsEndpoint(app, config));
  if (config.NODE_ENV === 'production') void exitIfTheModelFails(app, failureExitCode);
}

/**
 * In production a model that fails to load ends the process (EngineLoader has logged why, on one line): an
 * orchestrator then shows the failure and its reason, where a replica kept up unready would only look slow.
 */
async function exitIfTheModelFails(app: NestFastifyApplication, failureExitCode: number): Promise<void> {
  const loader = app.get(EngineLoader);
  await loader.settled;
  if (!loader.failure) return;
  try {
    await app.close();
  } finally {
    process.exit(failureExitCode);
  }
}

function announce(config: AppConfig, metrics: string): void {
  const logger = new Logger('Qwen3Guard');
  const model = configuredModel(config);
  logger.log(
    `listening on http://${config.HOST}:${config.PORT}; ${metrics}; model ${model.id} (${model.dtype}) on provider ${model.provider}, loading in the background` +
      (config.PLAYGROUND_ENABLED ? '; playground at /' : '') +
      (config.DOCS_ENABLED ? `; API docs at /docs` : ''),
  );
  if (model.demo) logger.warn(`${DEMO_MODEL_WARNING}. Set QWEN3GUARD_MODEL (a pulled repo id) or QWEN3GUARD_MODEL_DIR to a Qwen3Guard-Gen ONNX model.`);
}

/**
 * What `npm start` and `qwen3guard serve` run: the service, or one line naming why it did not start and an
 * exit, even when something half-started (a listener) would keep the process alive.
 */
export function startService(overrides: EnvSource = {}, failureExitCode = 1): void {
  bootstrap(overrides, failureExitCode).catch((error: unknown) => {
    reportStartupFailure(error, { ...process.env, ...overrides });
    process.exit(failureExitCode);
  });
}

if (require.main === module) startService();
