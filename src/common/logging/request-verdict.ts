import type { IncomingMessage } from 'node:http';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { Observable, tap } from 'rxjs';
import { SAFETY_LEVELS, SafetyLevel } from '../../inference';

/**
 * The verdict a request was answered with, for its access log line, which is written by a Fastify hook
 * that sees only the raw request. Keyed weakly, so nothing outlives its request.
 */
const verdictByRequest = new WeakMap<IncomingMessage, SafetyLevel>();

export function verdictOf(request: IncomingMessage): SafetyLevel | undefined {
  return verdictByRequest.get(request);
}

/**
 * The most severe level among a response's verdicts: every moderation endpoint answers either one
 * `safety_level` or `results[].safety_level`, and a batch is as severe as its worst item for anyone
 * searching the logs. Anything else (health, stats) has none.
 */
export function mostSevereLevel(body: unknown): SafetyLevel | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { safety_level: single, results } = body as { safety_level?: unknown; results?: unknown };
  const levels = Array.isArray(results) ? results.map((result: { safety_level?: unknown } | null) => result?.safety_level) : [single];
  let worst = -1;
  for (const level of levels) worst = Math.max(worst, SAFETY_LEVELS.indexOf(level as SafetyLevel));
  return worst < 0 ? undefined : SAFETY_LEVELS[worst];
}

/** Records the verdict of every successful response for the access log; never changes the response. */
@Injectable()
export class RequestVerdictInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return next.handle().pipe(
      tap((body) => {
        const level = mostSevereLevel(body);
        if (level) verdictByRequest.set(request.raw, level);
      }),
    );
  }
}
