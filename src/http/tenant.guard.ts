import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { PUBLIC_ROUTE } from '../common/public-route.decorator';
import { TenantAuthenticator } from '../tenant/tenant-authenticator';
import { RequestContext } from './request-context';

/**
 * Every route not marked @PublicRoute: finds the caller's tenant by API key, puts it in the request context,
 * then admits the request (TenantAuthenticator: 401, 403, or 429 with Retry-After).
 */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: TenantAuthenticator,
    private readonly context: RequestContext,
  ) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [execution.getHandler(), execution.getClass()])) return true;
    const request = execution.switchToHttp().getRequest<FastifyRequest>();
    const tenant = this.authenticator.identify(request.headers);
    this.context.tenant = tenant;
    await this.authenticator.admit(tenant);
    return true;
  }
}
