import { Injectable } from '@nestjs/common';

/**
 * Whether the service is shutting down, and how many API requests are still being answered. Shared by the
 * request hook that counts and refuses requests (drain-hook.ts), the readiness probe, and the signal
 * handler that waits for the count to reach zero (graceful-shutdown.ts).
 */
@Injectable()
export class ShutdownState {
  private isDraining = false;
  private inFlight = 0;
  private readonly idleWaiters = new Set<() => void>();

  get draining(): boolean {
    return this.isDraining;
  }

  get inFlightRequests(): number {
    return this.inFlight;
  }

  /** From now on readiness fails and new API requests are refused; requests already accepted carry on. */
  beginDraining(): void {
    this.isDraining = true;
  }

  requestStarted(): void {
    this.inFlight += 1;
  }

  requestFinished(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  /** Resolves true once no request is in flight, or false when `timeoutMs` passes first. */
  waitUntilIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(wake);
        resolve(idle);
      };
      const wake = () => finish(true);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.idleWaiters.add(wake);
    });
  }
}
