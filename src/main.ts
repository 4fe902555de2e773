import { Logger } from '@nestjs/common';
import { createApp } from './app-factory';
import { AppConfig } from './config/app-config';
import { describeMetricsEndpoint } from './metrics/metrics.module';
import { configuredModel, DEMO_MODEL_WARNING } from './moderation/moderation-engine.provider';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  app.enableShutdownHooks();
  const config = app.get(AppConfig);
  await app.listen(config.PORT, config.HOST);
  announce(config, describeMetricsEndpoint(app, config));
}

function announce(config: AppConfig, metrics: string): void {
  const logger = new Logger('Qwen3Guard');
  const model = configuredModel(config);
  logger.log(
    `listening on http://${config.HOST}:${config.PORT}; ${metrics}; model ${model.id} (${model.dtype}) on provider ${model.provider}, loading in the background` +
      (config.DOCS_ENABLED ? `; API docs at /docs` : ''),
  );
  if (model.demo) logger.warn(`${DEMO_MODEL_WARNING}. Set QWEN3GUARD_MODEL_DIR to a Qwen3Guard-Gen ONNX model directory.`);
}

bootstrap().catch((error: unknown) => {
  // One line naming the cause, no stack: a configuration message already names the variable to fix.
  console.error(`Qwen3Guard-Gen-WEB did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
