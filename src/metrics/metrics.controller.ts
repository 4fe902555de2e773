import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import { Registry } from 'prom-client';
import { PublicRoute } from '../common/public-route.decorator';

/**
 * `GET /metrics` on the API port (METRICS_MODE=same-port only), registered through
 * `PrometheusModule.register({ controller })`, the library's extension point. The library's own controller
 * renders prom-client's global registry; this one renders the application's registry (see
 * service-metrics.ts). Not part of the API document.
 */
@ApiExcludeController()
@PublicRoute()
@Controller()
export class MetricsController extends PrometheusController {
  constructor(private readonly registry: Registry) {
    super();
  }

  @Get()
  override async index(@Res({ passthrough: true }) response: FastifyReply): Promise<string> {
    void response.header('Content-Type', this.registry.contentType);
    return this.registry.metrics();
  }
}
