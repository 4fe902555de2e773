import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { AppConfig, LOG_LEVELS } from '../config/app-config';

/** LOG_LEVEL and every more severe level. */
export function logLevelsFrom(level: LogLevel): LogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(level));
}

/** Plain lines for people in development, one JSON object per line for log collectors in production. */
export function createAppLogger(config: AppConfig): ConsoleLogger {
  return new ConsoleLogger({ json: config.NODE_ENV === 'production', logLevels: logLevelsFrom(config.LOG_LEVEL) });
}
