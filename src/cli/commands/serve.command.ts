import { Command } from 'commander';
import { EnvSource } from '../../config/load-app-config';
import { EXIT_FAILURE } from '../exit-codes';
import { addModelOptions, ModelOptions, modelEnvironment } from '../model-options';

interface ServeOptions extends ModelOptions {
  host?: string;
  port?: string;
}

/** `qwen3guard serve`: the service, started exactly as `npm start` starts it (src/main.ts). */
export function addServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('start the moderation service (the same as npm start); configured by the environment, see README')
    .option('--host <address>', 'address to listen on (HOST)')
    .option('--port <port>', 'API port (PORT)');
  addModelOptions(command).action(async (options: ServeOptions) => {
    const { startService } = await import('../../main');
    await assertDecoratorMetadata();
    startService(serveEnvironment(options), EXIT_FAILURE);
  });
}

function serveEnvironment(options: ServeOptions): EnvSource {
  return {
    ...modelEnvironment(options),
    ...(options.host !== undefined && { HOST: options.host }),
    ...(options.port !== undefined && { PORT: options.port }),
  };
}

/**
 * Nest injects constructor arguments by the types tsc records as decorator metadata. Run from sources with
 * tsx (esbuild emits none), the service would start half-wired: refuse, and say what works.
 */
async function assertDecoratorMetadata(): Promise<void> {
  const { EngineLoader } = await import('../../moderation/engine-loader.service');
  if (Reflect.getMetadata('design:paramtypes', EngineLoader) === undefined) {
    throw new Error(
      'serve needs the compiled build (tsx does not emit the decorator metadata Nest injects by): npm run build, then node dist/src/cli/main.js serve, or npm start',
    );
  }
}
