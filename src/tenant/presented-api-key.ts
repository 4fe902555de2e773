import type { IncomingHttpHeaders } from 'node:http';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export type PresentedKey = { kind: 'none' } | { kind: 'malformed' } | { kind: 'key'; key: string };

/**
 * The API key a request presents: `Authorization: Bearer <key>` (what the OpenAI SDK sends) or
 * `X-API-Key: <key>`. An Authorization header of another scheme, or a repeated header, is malformed,
 * not absent: such a caller meant to authenticate and must be told it did not.
 */
export function presentedApiKey(headers: IncomingHttpHeaders): PresentedKey {
  const { authorization } = headers;
  const apiKey = headers['x-api-key'];
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization);
    return match ? { kind: 'key', key: match[1] } : { kind: 'malformed' };
  }
  if (apiKey === undefined) return { kind: 'none' };
  if (typeof apiKey !== 'string' || apiKey.trim() === '') return { kind: 'malformed' };
  return { kind: 'key', key: apiKey.trim() };
}
