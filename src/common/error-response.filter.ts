import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorReply } from './error-reply.mapper';

/**
 * The one exception filter: every error, from validation to Fastify's body parser to the engine,
 * leaves as the same JSON shape. Server-side failures are logged by request id, without the body.
 */
@Catch()
export class ErrorResponseFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { status, body, retryAfterSeconds, logMessage } = toErrorReply(exception, request);
    if (logMessage) this.logger.error(`${logMessage} [request ${request.id}]`);
    if (reply.sent) return;
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
    void reply.status(status).type('application/json; charset=utf-8').send(body);
  }
}
