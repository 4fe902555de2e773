import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestContext } from '../http/request-context';
import { UsageQueryDto } from './dto/usage-query.dto';
import { UsageResponseDto } from './dto/usage-response.dto';
import { UsageService } from './usage.service';
import { ROUTES } from '../common/routes';

@ApiTags('usage')
@Controller(ROUTES.usage)
export class UsageController {
  constructor(
    private readonly usage: UsageService,
    private readonly context: RequestContext,
  ) {}

  @Get()
  @ApiOperation({
    summary: "The caller's metered usage",
    description: "Rows per tenant, hour (or day) and endpoint from the ledger (shared by every replica on PostgreSQL). An admin key sees every tenant's rows.",
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: UsageResponseDto })
  async report(
    @Query() query: UsageQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UsageResponseDto | string> {
    const report = await this.usage.report(this.context.tenant, query);
    if (!wantsCsv(query, request)) return report;
    void reply.type('text/csv; charset=utf-8');
    return this.usage.toCsv(report);
  }
}

function wantsCsv(query: UsageQueryDto, request: FastifyRequest): boolean {
  return query.format === 'csv' || (query.format === undefined && (request.headers.accept ?? '').includes('text/csv'));
}
