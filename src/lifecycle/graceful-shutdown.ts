import { Logger } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '../config/app-config';
import { ShutdownState } from './shutdown-state';

const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * On SIGTERM (or SIGINT): readiness turns false and new API requests are refused at once, the requests
 * already accepted are given SHUTDOWN_DRAIN_MS to finish, then the application closes (listeners, metrics
 * server, engine) and the process exits 0, or 1 when the deadline cut requests short.
 *
 * Used instead of Nest's enableShutdownHooks(), which closes the listener straight away (new requests would
 * see a refused connection instead of a 503, and nothing flips readiness first) and ends by re-raising the
 * signal, so the exit status never says whether the drain succeeded. A second signal during the drain
 * takes the default action and ends the process at once.
 */
export function installGracefulShutdown(app: NestFastifyApplication, config: AppConfig): void {
  const state = app.get(ShutdownState);
  const logger = new Logger('Shutdown');
  const shutDown = async (signal: NodeJS.Signals): Promise<void> => {
    for (const other of SHUTDOWN_SIGNALS) process.removeListener(other, onSignal);
    state.beginDraining();
    logger.log(`${signal}: not ready, refusing new requests, draining ${state.inFlightRequests} in flight (at most ${config.SHUTDOWN_DRAIN_MS} ms)`);
    const drained = await state.waitUntilIdle(config.SHUTDOWN_DRAIN_MS);
    if (!drained) logger.warn(`${state.inFlightRequests} requests still in flight after ${config.SHUTDOWN_DRAIN_MS} ms; closing anyway`);
    await app.close();
    process.exit(drained ? 0 : 1);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    shutDown(signal).catch((error: unknown) => {
      logger.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
  };
  for (const signal of SHUTDOWN_SIGNALS) process.once(signal, onSignal);
}
