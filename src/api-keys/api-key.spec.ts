import { createHash } from 'node:crypto';
import { apiKeyHash, generateApiKey } from './api-key';

describe('API keys', () => {
  it('generates a prefixed key with 256 random bits, a new one each time', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^qg_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(key);
  });

  it("stores only the key's sha256, as sha256:<hex>", () => {
    const key = 'qg_example';
    expect(apiKeyHash(key)).toBe(`sha256:${createHash('sha256').update(key).digest('hex')}`);
  });
});
