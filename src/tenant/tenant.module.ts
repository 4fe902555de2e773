import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { TenantDirectory } from './tenant-directory';
import { TenantRateLimiter } from './tenant-rate-limiter';
import { readTenantsFile } from './tenants-file';

/**
 * Tenants: the directory read from QWEN3GUARD_TENANTS_FILE at start-up (a bad file stops the service), the
 * guard that authenticates and rate-limits every non-public route, and the request's tenant in context.
 * Features that read the current tenant (moderation, usage) import this module.
 */
@Module({
  providers: [
    {
      provide: TenantDirectory,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        config.QWEN3GUARD_TENANTS_FILE === undefined
          ? TenantDirectory.empty()
          : new TenantDirectory(readTenantsFile(config.QWEN3GUARD_TENANTS_FILE), config.MAX_TENANT_LABELS),
    },
    { provide: TenantRateLimiter, inject: [TenantDirectory], useFactory: (directory: TenantDirectory) => new TenantRateLimiter([...directory.tenants, directory.anonymous]) },
  ],
  exports: [TenantDirectory, TenantRateLimiter],
})
export class TenantModule {}
