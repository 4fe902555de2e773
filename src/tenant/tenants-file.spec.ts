import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidTenantsFileError, readTenantsFile, validateTenantsFile } from './tenants-file';

const HASH = `sha256:${'a'.repeat(64)}`;
const OTHER_HASH = `sha256:${'b'.repeat(64)}`;

function problemsOf(raw: unknown): string {
  try {
    validateTenantsFile(raw, 'tenants.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTenantsFileError);
    return (error as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('tenants file', () => {
  it('reads a YAML file with every field', () => {
    const directory = mkdtempSync(join(tmpdir(), 'tenants-'));
    try {
      const path = join(directory, 'tenants.yaml');
      writeFileSync(
        path,
        [
          'anonymous:',
          '  rateLimit: { requestsPerSecond: 2, burst: 3 }',
          'tenants:',
          '  - id: shop-reviews',
          '    name: Shop reviews',
          `    keys: ["${HASH}"]`,
          '    admin: true',
          '    policy:',
          '      controversial: safe',
          '      unsafeThreshold: 0.8',
          '      defaultAction: flag',
          '      categories: { PII: allow, Violent: block }',
          '    maxBatchSize: 4',
          '    blocklist: { terms: [foo, 坏], shortCircuit: false }',
        ].join('\n'),
      );
      const file = readTenantsFile(path);
      expect(file.tenants[0]).toMatchObject({
        id: 'shop-reviews',
        admin: true,
        maxBatchSize: 4,
        policy: { controversial: 'safe', categories: { PII: 'allow' } },
      });
      expect(file.anonymous?.rateLimit).toEqual({ requestsPerSecond: 2, burst: 3 });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('names the path of every bad field', () => {
    const message = problemsOf({
      tenants: [
        { id: 'Bad Id', name: 'x', keys: ['plain-key'] },
        {
          id: 'ok',
          name: 'y',
          keys: [OTHER_HASH],
          policy: { controversial: 'maybe', categories: { Violence: 'block', PII: 'hide' } },
          rateLimit: { requestsPerSecond: 0, burst: 1 },
        },
      ],
    });
    expect(message).toContain('tenants.0.id');
    expect(message).toContain('tenants.0.keys');
    expect(message).toContain('tenants.1.policy.controversial');
    expect(message).toContain('unknown category "Violence"');
    expect(message).toContain('tenants.1.policy.categories.PII');
    expect(message).toContain('tenants.1.rateLimit.requestsPerSecond');
  });

  it('refuses unknown fields, reserved and repeated ids, and a key shared by two tenants', () => {
    expect(problemsOf({ tenants: [{ id: 'a', name: 'a', keys: [], colour: 'red' }] })).toContain('colour');
    expect(problemsOf({ tenants: [{ id: 'anonymous', name: 'a', keys: [] }] })).toContain('reserved');
    expect(problemsOf({ tenants: [{ id: 'other', name: 'a', keys: [] }] })).toContain('reserved');
    const twice = problemsOf({
      tenants: [
        { id: 'a', name: 'a', keys: [HASH] },
        { id: 'a', name: 'b', keys: [HASH] },
      ],
    });
    expect(twice).toContain('used twice');
    expect(twice).toContain('a key hash is listed for two tenants');
    expect(problemsOf(['not', 'a', 'mapping'])).toContain('mapping');
  });

  it('reports a file that is not YAML, or missing', () => {
    expect(() => readTenantsFile(join(tmpdir(), 'no-such-tenants.yaml'))).toThrow(InvalidTenantsFileError);
  });
});

describe('config/tenants.example.yaml', () => {
  it('is a valid tenants file that shows every field', () => {
    const file = readTenantsFile(join(__dirname, '..', '..', 'config', 'tenants.example.yaml'));
    expect(file.tenants.map((tenant) => tenant.id)).toEqual(['chat-app', 'comments', 'platform-admin', 'retired-shop']);
    const comments = file.tenants[1];
    expect(comments.policy).toMatchObject({ controversial: 'safe', unsafeThreshold: 0.7, defaultAction: 'block' });
    expect(comments.blocklist?.terms).toContain('刷单');
    expect(file.anonymous?.rateLimit).toBeDefined();
  });
});
