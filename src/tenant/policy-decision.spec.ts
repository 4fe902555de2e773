import { verdictOf } from '../../test/support/verdicts';
import { decide } from './policy-decision';
import { STRICT_POLICY, TenantPolicy } from './tenant';

const LOOSE: TenantPolicy = { ...STRICT_POLICY, controversial: 'safe' };

describe('decide', () => {
  it('blocks anything not safe under the strict policy and allows safe', () => {
    expect(decide(verdictOf(), STRICT_POLICY)).toEqual({ action: 'allow', flagged: false, source: 'model' });
    expect(decide(verdictOf({ safetyLevel: 'controversial', categories: ['Unethical Acts'] }), STRICT_POLICY).action).toBe('block');
    expect(decide(verdictOf({ safetyLevel: 'unsafe', categories: ['Violent'] }), STRICT_POLICY).action).toBe('block');
  });

  it('lets controversial through under the loose policy, never unsafe', () => {
    expect(decide(verdictOf({ safetyLevel: 'controversial', categories: ['Politically Sensitive Topics'] }), LOOSE).action).toBe('allow');
    expect(decide(verdictOf({ safetyLevel: 'unsafe', categories: ['Violent'] }), LOOSE).action).toBe('block');
  });

  it('takes the most severe action among the categories, the default for unlisted ones', () => {
    const policy: TenantPolicy = { ...STRICT_POLICY, categoryActions: { PII: 'flag', Violent: 'allow' }, defaultAction: 'flag' };
    expect(decide(verdictOf({ safetyLevel: 'unsafe', categories: ['PII'] }), policy)).toEqual({ action: 'flag', flagged: true, source: 'model' });
    expect(decide(verdictOf({ safetyLevel: 'unsafe', categories: ['Violent'] }), policy)).toEqual({ action: 'allow', flagged: false, source: 'model' });
    expect(decide(verdictOf({ safetyLevel: 'unsafe', categories: ['Violent', 'PII'] }), policy).action).toBe('flag');
    expect(decide(verdictOf({ safetyLevel: 'unsafe', categories: ['Violent', 'Jailbreak'] }), { ...policy, defaultAction: 'block' }).action).toBe('block');
    expect(decide(verdictOf({ safetyLevel: 'unsafe', categories: [] }), policy).action).toBe('flag');
  });

  it('treats an unsafe verdict below the threshold as controversial', () => {
    const unsure = verdictOf({ safetyLevel: 'unsafe', categories: ['Violent'], probabilities: { safe: 0.3, controversial: 0.2, unsafe: 0.5 } });
    expect(decide(unsure, { ...LOOSE, unsafeThreshold: 0.6 }).action).toBe('allow');
    expect(decide(unsure, { ...STRICT_POLICY, unsafeThreshold: 0.6 }).action).toBe('block');
    expect(decide(unsure, { ...LOOSE, unsafeThreshold: 0.5 }).action).toBe('block');
  });
});
