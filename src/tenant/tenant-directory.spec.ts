import { apiKeyHash, generateApiKey } from '../api-keys/api-key';
import { ANONYMOUS_TENANT_ID, OTHER_TENANT_LABEL, STRICT_POLICY } from './tenant';
import { TenantDirectory } from './tenant-directory';
import { TenantEntry } from './tenants-file';

const keys = Array.from({ length: 4 }, () => generateApiKey());
const entry = (id: string, key: string, extra: Partial<TenantEntry> = {}): TenantEntry => ({ id, name: id, keys: [apiKeyHash(key)], ...extra });

describe('TenantDirectory', () => {
  const directory = new TenantDirectory(
    { tenants: [entry('chat', keys[0]), entry('shop', keys[1], { enabled: false }), entry('forum', keys[2], { policy: { controversial: 'safe' } })] },
    2,
  );

  it('finds a tenant by its key and nobody by an unknown or near-miss key', () => {
    expect(directory.findByKey(keys[0])?.id).toBe('chat');
    expect(directory.findByKey(keys[1])).toMatchObject({ id: 'shop', enabled: false });
    expect(directory.findByKey(keys[3])).toBeUndefined();
    expect(directory.findByKey(keys[0].slice(0, -1))).toBeUndefined();
    expect(directory.findByKey(apiKeyHash(keys[0]))).toBeUndefined();
  });

  it('labels tenants by id up to the cap, then `other`, plus `anonymous`', () => {
    expect(directory.tenants.map((tenant) => tenant.metricLabel)).toEqual(['chat', 'shop', OTHER_TENANT_LABEL]);
    expect(directory.metricLabels).toEqual([ANONYMOUS_TENANT_ID, 'chat', 'shop', OTHER_TENANT_LABEL]);
  });

  it('fills policy defaults: strict unless the file says otherwise', () => {
    expect(directory.tenants[0].policy).toEqual(STRICT_POLICY);
    expect(directory.tenants[2].policy).toMatchObject({ controversial: 'safe', defaultAction: 'block' });
    expect(TenantDirectory.empty().anonymous).toMatchObject({ id: ANONYMOUS_TENANT_ID, policy: STRICT_POLICY, enabled: true, admin: false });
  });

  it('has keys only when a tenant is configured', () => {
    expect(directory.hasKeys).toBe(true);
    expect(TenantDirectory.empty().hasKeys).toBe(false);
    expect(new TenantDirectory({ tenants: [], anonymous: { policy: { controversial: 'safe' } } }, 10).hasKeys).toBe(false);
  });
});
