import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { AppConfig } from '../config/app-config';
import { presentedApiKey } from './presented-api-key';
import { Tenant } from './tenant';
import { TenantDirectory } from './tenant-directory';
import { TenantRateLimiter } from './tenant-rate-limiter';

/**
 * Who is calling, and whether they may: the rules every way in shares (the HTTP guard, the stream socket).
 * A tenant by API key (401 without a valid one, unless anonymous access is on; with no tenant keys configured,
 * every caller is anonymous), then admission: 403 for a disabled tenant, 429 with Retry-After when its rate
 * limit is used up.
 */
@Injectable()
export class TenantAuthenticator {
  constructor(
    private readonly directory: TenantDirectory,
    private readonly limiter: TenantRateLimiter,
    private readonly config: AppConfig,
  ) {}

  identify(headers: IncomingHttpHeaders): Tenant {
    // Without tenants no key can be valid: a key the client sends anyway (the OpenAI SDK always sends one) is
    // ignored, as by other OpenAI-compatible servers started without a key, and the caller is anonymous.
    const presented = this.directory.hasKeys ? presentedApiKey(headers) : { kind: 'none' as const };
    switch (presented.kind) {
      case 'none':
        if (this.config.anonymousAllowed) return this.directory.anonymous;
        if (!this.directory.hasKeys) {
          throw new ApiException(ErrorCode.Unauthorized, 'no API keys are configured (QWEN3GUARD_TENANTS_FILE) and anonymous access is off (ALLOW_ANONYMOUS)');
        }
        throw new ApiException(ErrorCode.Unauthorized, 'an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`');
      case 'malformed':
        throw new ApiException(ErrorCode.Unauthorized, 'the API key header is malformed: send `Authorization: Bearer <key>` or `X-API-Key: <key>`');
      case 'key': {
        const tenant = this.directory.findByKey(presented.key);
        if (!tenant) throw new ApiException(ErrorCode.Unauthorized, 'the API key is not valid');
        return tenant;
      }
    }
  }

  /** Lets one request of the tenant through, or says why not. */
  async admit(tenant: Tenant): Promise<void> {
    if (!tenant.enabled) throw new ApiException(ErrorCode.TenantDisabled, 'this API key belongs to a disabled tenant');
    const retryAfterSeconds = await this.limiter.take(tenant);
    if (retryAfterSeconds !== undefined) {
      throw new ApiException(ErrorCode.RateLimited, `rate limit exceeded; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
  }
}
