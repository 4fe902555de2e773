import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { createAppLogger } from './app-logger';

/** Where log lines go: stdout for the service; a test overrides this provider to read its own logs. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');
/** The application's pino logger (the access log writes through it; Nest's logs go through nestjs-pino). */
export const APP_LOGGER = Symbol('APP_LOGGER');

/**
 * Structured JSON logs: Nest's own logger replaced by nestjs-pino over the one pino logger, and every log made
 * inside a request carrying its `requestId`. The access line is src/http/access-log.ts.
 *
 * pino-http's automatic request logging is off: its line is written from the raw response and cannot
 * see the matched route template; the access log's Fastify hook can. Note that nestjs-pino keeps its
 * request middleware in a process-wide singleton, so a second application in one process (tests only)
 * writes its in-request Nest logs to the first one's logger; the access line always uses its own.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      providers: [
        { provide: LOG_DESTINATION, useValue: process.stdout },
        {
          provide: APP_LOGGER,
          inject: [AppConfig, LOG_DESTINATION],
          useFactory: (config: AppConfig, destination: DestinationStream) => createAppLogger(config, destination),
        },
      ],
      inject: [APP_LOGGER],
      useFactory: (logger: Logger) => ({
        pinoHttp: {
          logger,
          autoLogging: false,
          // Bind only the request id to in-request logs, never the request object with its headers.
          quietReqLogger: true,
          quietResLogger: true,
          customAttributeKeys: { reqId: 'requestId' },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
