import { Module } from '@nestjs/common';
import { ClsModule } from 'nestjs-cls';
import { RequestContext } from './request-context';

/**
 * The request context for features that read it (moderation, usage); HttpPipelineModule opens the context
 * for every request, so importing this module does not make it global.
 */
@Module({
  imports: [ClsModule],
  providers: [RequestContext],
  exports: [RequestContext],
})
export class RequestContextModule {}
