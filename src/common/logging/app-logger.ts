import { LogLevel } from '@nestjs/common';
import pino, { DestinationStream, Level, LevelWithSilent, Logger } from 'pino';
import { AppConfig, AppLogLevel } from '../../config/app-config';

/** The `service` field of every log line. */
export const SERVICE_NAME = 'qwen3guard-gen-web';

/** Nest's level names (LOG_LEVEL keeps them, so existing deployments need no change) in pino's terms. */
const PINO_LEVELS: Readonly<Record<LogLevel, Level>> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

/** LOG_LEVEL in pino's terms: a Nest name translated, a pino name as it is. */
export function pinoLevelFor(level: AppLogLevel): LevelWithSilent {
  return level in PINO_LEVELS ? PINO_LEVELS[level as LogLevel] : (level as LevelWithSilent);
}

/**
 * Anything that could hold a moderated text, a key or a key's hash, wherever a careless log call might put
 * it. No log call in the service passes such values (the access line is built field by field and request
 * objects are reduced by the serializers below), so this is the second line of defence, not the first.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers',
  'req.body',
  'body',
  'headers',
  ...[
    'text',
    'prompt',
    'response',
    'messages',
    'input',
    'items',
    'content',
    'authorization',
    'apiKey',
    'api_key',
    'key',
    'keyHash',
    'key_hash',
    'hash',
  ].flatMap((name) => [name, `*.${name}`]),
];

/**
 * The service's one pino logger: JSON lines (a log collector parses them; nothing is pretty-printed) at
 * LOG_LEVEL, with a request reduced to its method and id whenever one is logged (pino-http's default
 * serializer would write every header, Authorization included).
 */
export function createAppLogger(config: AppConfig, destination: DestinationStream): Logger {
  return pino(
    {
      level: pinoLevelFor(config.LOG_LEVEL),
      base: { service: SERVICE_NAME },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      serializers: {
        req: (request: { id?: unknown; method?: unknown }) => ({ id: request.id, method: request.method }),
        res: (response: { statusCode?: unknown }) => ({ statusCode: response.statusCode }),
      },
    },
    destination,
  );
}
