import { Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify/sync';
import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { Tenant } from '../tenant/tenant';
import { UsageQueryDto } from './dto/usage-query.dto';
import { UsageResponseDto, UsageRowDto } from './dto/usage-response.dto';
import { UsageLedger, UsageRow } from './usage-ledger';

const DAY_MS = 86_400_000;
/** Hourly rows for more than a year are a report job's work, not an API call's. */
const MAX_RANGE_MS = 366 * DAY_MS;

const CSV_COLUMNS: readonly (keyof UsageRowDto)[] = ['tenant', 'period', 'endpoint', 'requests', 'items', 'prompt_tokens', 'characters', 'flagged'];

/** GET /v1/usage: the ledger, read for the caller. A tenant sees its own rows; an admin key sees every tenant's. */
@Injectable()
export class UsageService {
  constructor(private readonly ledger: UsageLedger) {}

  async report(caller: Tenant, query: UsageQueryDto): Promise<UsageResponseDto> {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - DAY_MS);
    if (from.getTime() >= to.getTime()) throw new ApiException(ErrorCode.ValidationFailed, 'from must be before to', { field: 'from' });
    if (to.getTime() - from.getTime() > MAX_RANGE_MS)
      throw new ApiException(ErrorCode.ValidationFailed, 'the range from..to must not exceed 366 days', { field: 'to' });
    const granularity = query.granularity ?? 'hour';
    const tenant = this.visibleTenant(caller, query.tenant);
    const rows = await this.ledger.query({ from, to, granularity, tenant }).catch((error: unknown) => {
      throw new ApiException(ErrorCode.UsageLedgerUnavailable, 'the usage ledger cannot be read right now', {
        detail: error instanceof Error ? error.message : String(error),
      });
    });
    return { from: from.toISOString(), to: to.toISOString(), granularity, rows: rows.map(toRowDto) };
  }

  toCsv(report: UsageResponseDto): string {
    return stringify(
      report.rows.map((row) => CSV_COLUMNS.map((column) => row[column])),
      { header: true, columns: [...CSV_COLUMNS] },
    );
  }

  /** Whose rows the caller may read: a non-admin only its own, and naming another tenant is refused, not ignored. */
  private visibleTenant(caller: Tenant, requested: string | undefined): string | undefined {
    if (caller.admin) return requested;
    if (requested !== undefined && requested !== caller.id)
      throw new ApiException(ErrorCode.Forbidden, "only an admin key may read another tenant's usage", { field: 'tenant' });
    return caller.id;
  }
}

function toRowDto(row: UsageRow): UsageRowDto {
  return {
    tenant: row.tenant,
    period: row.period,
    endpoint: row.endpoint,
    requests: row.requests,
    items: row.items,
    prompt_tokens: row.promptTokens,
    characters: row.characters,
    flagged: row.flagged,
  };
}
