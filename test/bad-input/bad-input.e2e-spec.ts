import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createCacheDir, removeCacheDir, startTestApp, waitUntilReady } from '../support/test-app';
import { BadInputCase, CorpusLimits, generateBadInputCorpus } from './bad-input-corpus';

jest.setTimeout(300_000);

const LIMITS: CorpusLimits = { bodyLimitBytes: 64 * 1024, maxTextChars: 2000, maxBatchItems: 8 };
const ERROR_KEYS = ['code', 'error', 'message', 'statusCode'];
const STACK_TRACE = /\bat .+\.(ts|js):\d+|node_modules|\/src\//;

/** V8's collector, for memory readings that do not depend on when it last ran. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** What is wrong with one answer, or undefined when it is a correct one. */
function problemWith(testCase: BadInputCase, status: number, contentType: string | undefined, text: string): string | undefined {
  if (status >= 500) return `a server error ${status}: ${text.slice(0, 300)}`;
  if (STACK_TRACE.test(text)) return 'a stack trace or source path in the body';
  const isJson = contentType?.startsWith('application/json') ?? false;
  if (status >= 400) {
    if (testCase.expect === 'accept') return `refused with ${status}: ${text.slice(0, 300)}`;
    if (!isJson || testCase.method === 'HEAD') return testCase.method === 'HEAD' ? undefined : `a ${status} that is not JSON`;
    const body = JSON.parse(text) as Record<string, unknown>;
    const keys = Object.keys(body)
      .filter((key) => key !== 'field')
      .sort();
    if (keys.join() !== ERROR_KEYS.join() || body.statusCode !== status) return `not the error shape: ${text.slice(0, 300)}`;
    return undefined;
  }
  if (testCase.expect === 'reject') return `accepted with ${status}: ${text.slice(0, 300)}`;
  if (testCase.verdict) {
    const body = JSON.parse(text) as { safety_level?: string; results?: Array<{ safety_level: string }> };
    const level = body.safety_level ?? body.results?.[0]?.safety_level;
    if (level !== testCase.verdict) return `verdict ${level}, expected ${testCase.verdict}`;
  }
  return undefined;
}

/**
 * More than 500 malformed or odd requests against every route, on the demo model: each is answered with a
 * 4xx in the one error shape (or, for valid but odd texts, a 200 with the right verdict), never a 5xx or a
 * stack trace; the application keeps serving, and a second pass leaves memory where the first one did.
 */
describe('bad input corpus (e2e)', () => {
  const corpus = generateBadInputCorpus(LIMITS);
  let app: NestFastifyApplication;
  let cacheDir: string;
  const gc = collectGarbage();

  beforeAll(async () => {
    cacheDir = createCacheDir();
    app = await startTestApp({
      env: {
        QWEN3GUARD_CACHE_DIR: cacheDir,
        BODY_LIMIT_BYTES: String(LIMITS.bodyLimitBytes),
        MAX_TEXT_CHARS: String(LIMITS.maxTextChars),
        MAX_BATCH_ITEMS: String(LIMITS.maxBatchItems),
      },
    });
    await waitUntilReady(app);
  });

  afterAll(async () => {
    await app.close();
    removeCacheDir(cacheDir);
  });

  async function runCorpus(): Promise<string[]> {
    const problems: string[] = [];
    for (const testCase of corpus) {
      const response = await app.inject({
        method: testCase.method,
        url: testCase.url,
        payload: testCase.payload,
        headers: testCase.contentType === undefined ? {} : { 'content-type': testCase.contentType },
      });
      const problem = problemWith(testCase, response.statusCode, response.headers['content-type']?.toString(), response.body);
      if (problem) problems.push(`${testCase.name}: ${problem}`);
    }
    return problems;
  }

  function memory(): { rss: number; heapUsed: number } {
    gc();
    const { rss, heapUsed } = process.memoryUsage();
    return { rss, heapUsed };
  }

  it('has at least 500 cases, covering every route', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(500);
    for (const route of ['/predict', '/v1/moderate', '/v1/moderations', '/v1/stats', '/health/live', '/health/ready']) {
      expect(corpus.filter((testCase) => testCase.url.startsWith(route)).length).toBeGreaterThan(0);
    }
    expect(corpus.filter((testCase) => testCase.expect === 'accept').length).toBeLessThanOrEqual(60);
  });

  it('answers every case correctly, twice, without a 5xx, keeps serving, and keeps its memory', async () => {
    expect(await runCorpus()).toEqual([]);
    const afterFirstPass = memory();
    expect(await runCorpus()).toEqual([]);
    const afterSecondPass = memory();

    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    const verdict = await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: '{"text":"a gun"}' });
    expect(verdict.json()).toMatchObject({ safety_level: 'unsafe' });
    // Generous bounds: a leak of even a few bytes per request would add up over a corpus of this size
    // only slowly, but one that keeps bodies, tensors or sessions would show at once.
    expect(afterSecondPass.heapUsed - afterFirstPass.heapUsed).toBeLessThan(32 * 1024 * 1024);
    expect(afterSecondPass.rss - afterFirstPass.rss).toBeLessThan(128 * 1024 * 1024);
  });
});
