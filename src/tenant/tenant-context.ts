import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { Tenant } from './tenant';

const TENANT_KEY = 'tenant';

/**
 * The current request's tenant, kept in the request context (nestjs-cls, AsyncLocalStorage) so that
 * singletons read it without request-scoped providers.
 */
@Injectable()
export class TenantContext {
  constructor(private readonly cls: ClsService) {}

  set(tenant: Tenant): void {
    this.cls.set(TENANT_KEY, tenant);
  }

  /** The authenticated tenant; only guarded routes have one, so asking elsewhere is a programming error. */
  get current(): Tenant {
    const tenant = this.cls.get<Tenant | undefined>(TENANT_KEY);
    if (!tenant) throw new Error('no tenant in the request context: the route is not guarded by TenantGuard');
    return tenant;
  }
}
