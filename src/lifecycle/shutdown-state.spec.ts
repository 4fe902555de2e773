import { ShutdownState } from './shutdown-state';

describe('ShutdownState', () => {
  it('is idle at once when nothing is in flight', async () => {
    await expect(new ShutdownState().waitUntilIdle(10)).resolves.toBe(true);
  });

  it('resolves true when the last request finishes before the deadline', async () => {
    const state = new ShutdownState();
    state.requestStarted();
    state.requestStarted();
    const idle = state.waitUntilIdle(5_000);
    state.requestFinished();
    expect(state.inFlightRequests).toBe(1);
    state.requestFinished();
    await expect(idle).resolves.toBe(true);
  });

  it('resolves false when requests are still in flight at the deadline', async () => {
    const state = new ShutdownState();
    state.requestStarted();
    await expect(state.waitUntilIdle(20)).resolves.toBe(false);
    expect(state.inFlightRequests).toBe(1);
  });

  it('starts serving and turns draining only when told', () => {
    const state = new ShutdownState();
    expect(state.draining).toBe(false);
    state.beginDraining();
    expect(state.draining).toBe(true);
  });
});
