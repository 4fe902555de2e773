import pino from 'pino';
import { EnvSource } from '../../config/load-app-config';
import { SERVICE_NAME } from './app-logger';

/**
 * The one line a start-up that failed writes to stderr, and nothing else: the configuration may be what
 * failed, so it decides on NODE_ENV alone. With NODE_ENV=production a pino JSON line like every other log
 * line (a log collector parses it); otherwise plain text for the person at the terminal. No stack: the
 * message names what to fix (a configuration message names the variable).
 */
export function reportStartupFailure(error: unknown, env: EnvSource): void {
  const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  if (env.NODE_ENV?.trim() === 'production') {
    const logger = pino(
      { base: { service: SERVICE_NAME }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
      pino.destination({ fd: 2, sync: true }),
    );
    logger.fatal(`did not start: ${reason}`);
    return;
  }
  process.stderr.write(`Qwen3Guard-Gen-WEB did not start: ${reason}\n`);
}
