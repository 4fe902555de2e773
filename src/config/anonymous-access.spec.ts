import { loadAppConfig } from './load-app-config';

describe('anonymous access', () => {
  it('is on by default, off by default in production, and settable either way', () => {
    expect(loadAppConfig({}).anonymousAllowed).toBe(true);
    expect(loadAppConfig({ NODE_ENV: 'test' }).anonymousAllowed).toBe(true);
    const production = { NODE_ENV: 'production', QWEN3GUARD_MODEL_DIR: __dirname };
    expect(loadAppConfig(production).anonymousAllowed).toBe(false);
    expect(loadAppConfig({ ...production, ALLOW_ANONYMOUS: 'true' }).anonymousAllowed).toBe(true);
    expect(loadAppConfig({ ALLOW_ANONYMOUS: 'no' }).anonymousAllowed).toBe(false);
    expect(() => loadAppConfig({ ALLOW_ANONYMOUS: 'sometimes' })).toThrow('ALLOW_ANONYMOUS');
  });
});
