import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { AppConfig } from '../config/app-config';
import { presentedApiKey } from '../tenant/presented-api-key';
import { PUBLIC_ROUTE } from '../common/public-route.decorator';
import { Tenant } from '../tenant/tenant';
import { TenantDirectory } from '../tenant/tenant-directory';
import { TenantRateLimiter } from '../tenant/tenant-rate-limiter';
import { RequestContext } from './request-context';

/**
 * Every route not marked @PublicRoute: finds the caller's tenant by API key (401 without a valid one, unless
 * anonymous access is on; 403 for a disabled tenant; with no tenant keys configured, every caller is anonymous), puts it in the request context, then takes one
 * request from the tenant's rate limit (429 with Retry-After when it is used up).
 */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly directory: TenantDirectory,
    private readonly limiter: TenantRateLimiter,
    private readonly context: RequestContext,
    private readonly config: AppConfig,
  ) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [execution.getHandler(), execution.getClass()])) return true;
    const request = execution.switchToHttp().getRequest<FastifyRequest>();
    const tenant = this.authenticate(request);
    this.context.tenant = tenant;
    if (!tenant.enabled) throw new ApiException(ErrorCode.TenantDisabled, 'this API key belongs to a disabled tenant');
    const retryAfterSeconds = await this.limiter.take(tenant);
    if (retryAfterSeconds !== undefined) {
      throw new ApiException(ErrorCode.RateLimited, `rate limit exceeded; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
    return true;
  }

  private authenticate(request: FastifyRequest): Tenant {
    // Without tenants no key can be valid: a key the client sends anyway (the OpenAI SDK always sends one) is
    // ignored, as by other OpenAI-compatible servers started without a key, and the caller is anonymous.
    const presented = this.directory.hasKeys ? presentedApiKey(request.headers) : { kind: 'none' as const };
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
}
