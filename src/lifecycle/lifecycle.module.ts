import { Global, Module } from '@nestjs/common';
import { ShutdownState } from './shutdown-state';

/** The one ShutdownState; global because the request hook, readiness and the signal handler all read it. */
@Global()
@Module({ providers: [ShutdownState], exports: [ShutdownState] })
export class LifecycleModule {}
