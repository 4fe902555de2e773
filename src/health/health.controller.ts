import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { FastifyReply } from 'fastify';
import { ModelReadyHealthIndicator } from './model-ready.health';
import { PublicRoute } from '../common/public-route.decorator';
import { UsageLedgerHealthIndicator } from '../usage/usage-ledger.health';
import { ROUTES } from '../common/routes';

@ApiTags('health')
@PublicRoute()
@Controller(ROUTES.health)
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly modelReady: ModelReadyHealthIndicator,
    private readonly usageLedger: UsageLedgerHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: 200 while the process serves HTTP' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: 200 once the model is loaded and warmed up, 503 before or after a failed load; also reports whether the usage ledger answers',
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.modelReady.isReady(), () => this.usageLedger.check()]);
    } catch (error) {
      // Terminus reports "down" by throwing; probes want its report itself with the 503, not the error shape.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }
}
