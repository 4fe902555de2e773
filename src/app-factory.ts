import { NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { setupApiDocs } from './common/api-docs';
import { AppConfig } from './config/app-config';
import { EnvSource, loadAppConfig } from './config/load-app-config';
import { installFastifyHooks } from './http/http-pipeline';
import { requestIdFor } from './http/request-id';
import { servePlayground } from './playground/playground-assets';
import { STREAM_SOCKET_DOCS, StreamSocket } from './streaming/stream-socket';

/**
 * Builds the application exactly as the binary runs it; e2e tests call the same functions. Nothing
 * listens yet: the caller decides where.
 */
export async function createApp(configOverrides: EnvSource = {}): Promise<NestFastifyApplication> {
  const config = loadAppConfig({ ...process.env, ...configOverrides });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), createFastifyAdapter(config), applicationOptions());
  configureApp(app, config);
  return app;
}

export function applicationOptions(): NestApplicationOptions {
  return {
    // Held until configureApp hands Nest the pino logger, so start-up lines are JSON like the rest.
    bufferLogs: true,
    // And never written when start-up fails: Nest would print them, and the error with its stack, in its own
    // coloured format; the caller reports the failure in one line instead (see main.ts). configureApp flushes.
    autoFlushLogs: false,
    // Let start-up errors reach the caller, which reports them, instead of Nest exiting the process.
    abortOnError: false,
    // Nest would add a form-urlencoded parser; Fastify's own JSON parser is the only one wanted.
    bodyParser: false,
  };
}

export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Client addresses are not used for anything; a proxy's forwarding headers are not trusted.
    trustProxy: false,
    genReqId: requestIdFor,
    logger: false,
    // Slow or idle clients cannot hold sockets forever (slowloris); see the variables in AppConfig.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
  });
}

/** Everything applied to a created application before it starts: the logger, the request pipeline's Fastify hooks (src/http/http-pipeline.ts), the stream WebSocket, docs, playground. */
export function configureApp(app: NestFastifyApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  app.flushLogs();
  installFastifyHooks(app, config);
  app.get(StreamSocket).register(app, config);
  if (config.DOCS_ENABLED) setupApiDocs(app, STREAM_SOCKET_DOCS);
  if (config.PLAYGROUND_ENABLED) servePlayground(app);
}
