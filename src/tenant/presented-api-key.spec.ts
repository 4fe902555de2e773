import { presentedApiKey } from './presented-api-key';

describe('presentedApiKey', () => {
  it('reads a bearer token or X-API-Key', () => {
    expect(presentedApiKey({ authorization: 'Bearer qg_abc' })).toEqual({ kind: 'key', key: 'qg_abc' });
    expect(presentedApiKey({ authorization: 'bearer   qg_abc ' })).toEqual({ kind: 'key', key: 'qg_abc' });
    expect(presentedApiKey({ 'x-api-key': ' qg_def ' })).toEqual({ kind: 'key', key: 'qg_def' });
  });

  it('prefers Authorization, and tells a malformed header from a missing one', () => {
    expect(presentedApiKey({ authorization: 'Bearer one', 'x-api-key': 'two' })).toEqual({ kind: 'key', key: 'one' });
    expect(presentedApiKey({})).toEqual({ kind: 'none' });
    expect(presentedApiKey({ authorization: 'Basic dXNlcjpwYXNz' })).toEqual({ kind: 'malformed' });
    expect(presentedApiKey({ authorization: 'Bearer' })).toEqual({ kind: 'malformed' });
    expect(presentedApiKey({ authorization: 'Bearer a b' })).toEqual({ kind: 'malformed' });
    expect(presentedApiKey({ 'x-api-key': '' })).toEqual({ kind: 'malformed' });
    expect(presentedApiKey({ 'x-api-key': ['a', 'b'] })).toEqual({ kind: 'malformed' });
  });
});
