import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { FastifyRequest } from 'fastify';
import { ClsModule } from 'nestjs-cls';
import { ErrorResponseFilter } from './error-response.filter';
import { createValidationPipe } from './validation/create-validation-pipe';

/**
 * The cross-cutting request pipeline: the validation pipe, the one exception filter, and the
 * request context (nestjs-cls, keyed by the request id) that per-request features read instead of
 * request-scoped providers.
 */
@Module({
  imports: [
    ClsModule.forRoot({
      middleware: { mount: true, generateId: true, idGenerator: (request: FastifyRequest) => String(request.id) },
    }),
  ],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: ErrorResponseFilter },
  ],
})
export class CommonModule {}
