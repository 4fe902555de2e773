import websocket from '@fastify/websocket';
import { Injectable, Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { ROUTES } from '../common/routes';
import { toErrorReply } from '../common/error-reply.mapper';
import { createValidationPipe } from '../common/validation/create-validation-pipe';
import { AppConfig } from '../config/app-config';
import { RequestContext } from '../http/request-context';
import { Tenant } from '../tenant/tenant';
import { TenantAuthenticator } from '../tenant/tenant-authenticator';
import { AppendChunkRequestDto } from './dto/append-chunk-request.dto';
import { OpenStreamRequestDto } from './dto/open-stream-request.dto';
import { StreamStateDto } from './dto/stream-state.dto';
import { StreamingService } from './streaming.service';

/** The socket in the OpenAPI document, which has no way to describe its messages: the README does. */
export const STREAM_SOCKET_DOCS: OpenAPIObject['paths'] = {
  [ROUTES.streamSocket]: {
    get: {
      tags: ['streaming'],
      summary: 'A moderation stream over one WebSocket',
      description:
        'Upgrade to a WebSocket (authenticated at the upgrade like any route), then send JSON text messages: ' +
        '`{"type":"open", "prompt"|"messages", "check_every_tokens"?, "close_on_unsafe"?}`, `{"type":"append", "text", "check"?}`, ' +
        '`{"type":"close"}`. The server answers `opened`, `state` (no check was due) or `verdict` with the body POST /v1/streams/{id}/chunks ' +
        'answers, `closed` with a `reason` (client, unsafe), and `error` with the `code` and `message` of the HTTP errors. One stream per ' +
        'connection, closed with the socket. See README, "Streaming over a WebSocket".',
      responses: {
        '101': { description: 'Switching Protocols: the stream protocol starts.' },
        '401': { description: 'No valid API key (the upgrade is refused with the usual error body).' },
        '403': { description: "The key's tenant is disabled." },
        '429': { description: "The tenant's rate limit is used up (Retry-After)." },
      },
    },
  },
};

/** Why a connection's stream closed, as the `closed` message says. */
type CloseReason = 'client' | 'unsafe';

/** What one connection knows: its tenant (authenticated at the upgrade) and the stream it opened. */
interface Connection {
  tenant: Tenant;
  socket: WebSocket;
  streamId?: string;
  /** Messages are handled one after another, in the order they came. */
  queue: Promise<void>;
  messages: number;
  requestId: string;
}

/**
 * The stream protocol over one WebSocket (GET /v1/streams/ws, README "Streaming over a WebSocket"): the
 * client sends `open`, `append` and `close` messages, the server answers each with `opened`, `state` or
 * `verdict`, `closed`, or `error` (the HTTP codes). All stream logic is StreamingService's; this class only
 * authenticates the upgrade as the HTTP guard does, validates messages with the same DTOs, and runs each under
 * a request context holding the connection's tenant. A connection owns one stream, closed with the socket.
 */
@Injectable()
export class StreamSocket {
  private readonly logger = new Logger('StreamSocket');
  private readonly validation = createValidationPipe();
  /** The tenant each upgrade authenticated, until the route's handler takes the socket. */
  private readonly upgradeTenants = new WeakMap<FastifyRequest, Tenant>();

  constructor(
    private readonly streaming: StreamingService,
    private readonly authenticator: TenantAuthenticator,
    private readonly context: RequestContext,
  ) {}

  /** Adds @fastify/websocket and the stream route to the application's Fastify instance. */
  register(app: NestFastifyApplication, config: AppConfig): void {
    const fastify = app.getHttpAdapter().getInstance();
    void fastify.register(websocket, { options: { maxPayload: config.BODY_LIMIT_BYTES } });
    // A Fastify plugin is an async function (or takes a callback); this one only declares a route.
    // eslint-disable-next-line @typescript-eslint/require-await
    void fastify.register(async (scope) => {
      scope.get(ROUTES.streamSocket, { websocket: true, preValidation: (request, reply) => this.authenticateUpgrade(request, reply) }, (socket, request) =>
        this.accept(socket, request),
      );
    });
  }

  /** Refuses the upgrade with the HTTP error a guarded route would answer; the tenant rides on the request. */
  private async authenticateUpgrade(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      const tenant = this.authenticator.identify(request.headers);
      await this.authenticator.admit(tenant);
      this.upgradeTenants.set(request, tenant);
    } catch (error) {
      const { status, body, retryAfterSeconds } = toErrorReply(error, request);
      if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
      await reply.status(status).type('application/json; charset=utf-8').send(body);
    }
  }

  private accept(socket: WebSocket, request: FastifyRequest): void {
    const tenant = this.upgradeTenants.get(request);
    if (!tenant) return socket.close(1011);
    const connection: Connection = { tenant, socket, queue: Promise.resolve(), messages: 0, requestId: String(request.id) };
    socket.on('message', (data, isBinary) => {
      connection.queue = connection.queue.then(() => this.handle(connection, data, isBinary));
    });
    socket.on('close', () => {
      connection.queue = connection.queue.then(() => this.releaseStream(connection));
    });
  }

  private async handle(connection: Connection, data: RawData, isBinary: boolean): Promise<void> {
    try {
      const message = parseMessage(data, isBinary);
      await this.inContext(connection, async () => {
        await this.authenticator.admit(connection.tenant);
        await this.dispatch(connection, message);
      });
    } catch (error) {
      const { body, retryAfterSeconds, logMessage } = toErrorReply(error, { method: 'WS', url: ROUTES.streamSocket });
      if (logMessage) this.logger.error(`${logMessage} [request ${connection.requestId}]`);
      send(connection.socket, {
        type: 'error',
        code: body.code,
        message: body.message,
        ...(body.field && { field: body.field }),
        ...(retryAfterSeconds !== undefined && { retry_after_seconds: retryAfterSeconds }),
      });
    }
  }

  private async dispatch(connection: Connection, { type, ...fields }: Record<string, unknown>): Promise<void> {
    switch (type) {
      case 'open': {
        if (connection.streamId)
          throw new ApiException(ErrorCode.ValidationFailed, 'this connection has a stream already; open another connection for another stream', {
            field: 'type',
          });
        const state = this.streaming.open(await this.validated(OpenStreamRequestDto, fields));
        connection.streamId = state.id;
        return send(connection.socket, { type: 'opened', ...state });
      }
      case 'append': {
        const state = await this.streaming.append(this.streamOf(connection), await this.validated(AppendChunkRequestDto, fields));
        send(connection.socket, { type: state.check ? 'verdict' : 'state', ...state });
        if (state.closed) this.finish(connection, state, 'unsafe');
        return;
      }
      case 'close':
        assertNoFields(fields);
        return this.finish(connection, this.streaming.close(this.streamOf(connection)), 'client');
      default:
        throw new ApiException(ErrorCode.ValidationFailed, '`type` must be one of open, append, close', { field: 'type' });
    }
  }

  /** Says the stream closed, then ends the connection: it owned that one stream. */
  private finish(connection: Connection, state: StreamStateDto, reason: CloseReason): void {
    connection.streamId = undefined;
    send(connection.socket, { type: 'closed', reason, ...state });
    connection.socket.close(1000);
  }

  private streamOf(connection: Connection): string {
    if (!connection.streamId) throw new ApiException(ErrorCode.NotFound, 'no open stream on this connection; send `open` first');
    return connection.streamId;
  }

  /** The socket closed: its stream, if still open, is closed too (it may have timed out meanwhile). */
  private async releaseStream(connection: Connection): Promise<void> {
    const id = connection.streamId;
    if (!id) return;
    connection.streamId = undefined;
    // eslint-disable-next-line @typescript-eslint/require-await -- inContext runs async work; closing is synchronous
    await this.inContext(connection, async () => {
      try {
        this.streaming.close(id);
      } catch (error) {
        if (!(error instanceof ApiException && error.code === ErrorCode.NotFound)) throw error;
      }
    });
  }

  private async validated<T extends object>(dto: new () => T, fields: Record<string, unknown>): Promise<T> {
    return (await this.validation.transform(fields, { type: 'body', metatype: dto })) as T;
  }

  /** Runs one message under a request context of its own, holding the connection's tenant. */
  private inContext<T>(connection: Connection, work: () => Promise<T>): Promise<T> {
    return this.context.run(`${connection.requestId}.${++connection.messages}`, connection.tenant, work);
  }
}

function parseMessage(data: RawData, isBinary: boolean): Record<string, unknown> {
  if (isBinary) throw new ApiException(ErrorCode.InvalidJson, 'send messages as text frames holding JSON');
  let message: unknown;
  try {
    message = JSON.parse((Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8'));
  } catch {
    throw new ApiException(ErrorCode.InvalidJson, 'the message is not valid JSON');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new ApiException(ErrorCode.ValidationFailed, 'a message must be a JSON object with a `type`');
  }
  return message as Record<string, unknown>;
}

/** `close` carries nothing but its type (as the validation pipe refuses unknown fields elsewhere). */
function assertNoFields(fields: Record<string, unknown>): void {
  const [extra] = Object.keys(fields);
  if (extra !== undefined) throw new ApiException(ErrorCode.ValidationFailed, `property ${extra} should not exist`, { field: extra });
}

function send(socket: WebSocket, message: object): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}
