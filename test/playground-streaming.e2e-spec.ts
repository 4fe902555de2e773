import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Page } from 'playwright-core';
import { Browser, describeWithChromium, launchChromium } from './support/chromium';
import { createCacheDir, postJson, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';
import { bearer, testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(180_000);

/** Where the suite leaves its screenshot (git-ignored, like every .cache/). */
const SCREENSHOT = join(__dirname, '..', '.cache', 'screenshots', 'playground-streaming.png');

const PROMPT = 'Tell me about chemistry.';
/** Safe up to " gun", a trigger word of the demo model's Violent class (src/synthetic-model/demo-rules.ts). */
const ANSWER = 'Chemistry grew out of alchemy and studies matter. One day a chemist found a gun in the lab and called for help.';
const TRIGGER = ' gun';

interface StreamCall {
  method: string;
  path: string;
  authorization: string | undefined;
  status: number;
  body: Record<string, any> | null;
}

/**
 * The playground's streaming mode in Debian's Chromium (playwright-core), against the service on a real port
 * with the demo model and a tenant's key (anonymous access off): the answer plays piece by piece through
 * /v1/streams, the shown verdict turns from Safe to Unsafe, and the first flag shown is the one the API
 * reported, at the trigger word. Refusals (429, 401) are shown. Leaves a screenshot at SCREENSHOT.
 */
describeWithChromium('playground streaming mode in a browser (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;
  let browser: Browser;
  let page: Page;
  const tenant = testTenant('streamer');
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  let streamCalls: Array<Promise<StreamCall>> = [];

  beforeAll(async () => {
    cacheDir = createCacheDir();
    app = await startTestApp({
      env: {
        QWEN3GUARD_CACHE_DIR: cacheDir,
        QWEN3GUARD_TENANTS_FILE: writeTenantsFile(cacheDir, [tenant]),
        ALLOW_ANONYMOUS: 'false',
        STREAM_MAX_SESSIONS_PER_TENANT: '1',
      },
    });
    await app.listen(0, '127.0.0.1');
    await waitUntilReady(app);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('requestfailed', (request) => pageErrors.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    page.on('response', (response) => {
      const path = new URL(response.url()).pathname;
      if (!path.startsWith('/v1/streams')) return;
      const request = response.request();
      streamCalls.push(
        response
          .json()
          .catch(() => null)
          .then((body) => ({ method: request.method(), path, authorization: request.headers().authorization, status: response.status(), body })),
      );
    });
    await page.goto(await app.getUrl());
    await page.getByLabel('API key').fill(tenant.key);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    removeCacheDir(cacheDir);
  });

  /** The stream calls since the last take, answered. */
  async function takeStreamCalls(): Promise<StreamCall[]> {
    const calls = await Promise.all(streamCalls);
    streamCalls = [];
    return calls;
  }

  const play = () => page.getByRole('button', { name: 'Play' }).click();
  const moderate = async (answer: string) =>
    (await postJson(app, '/v1/moderate', { prompt: PROMPT, response: answer }, bearer(tenant))).json().safety_level as string;

  it('offers a streaming mode with its own settings', async () => {
    await expect(page.locator('#stream-options').isVisible()).resolves.toBe(false);
    await page.getByLabel('Streaming').check();
    await expect(page.getByLabel('Check every (answer tokens)').isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('Pause between pieces (ms)').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Play' }).isVisible()).resolves.toBe(true);
    await page.getByLabel('User message').fill(PROMPT);
    await play();
    await expect(page.locator('#result').textContent()).resolves.toBe('Write an assistant response to stream.');
    expect(await takeStreamCalls()).toEqual([]);
  });

  it('plays the answer, shows the verdict turning from Safe to Unsafe, and marks where the API says it first turned', async () => {
    await page.getByLabel('Assistant response').fill(ANSWER);
    await page.getByLabel('Check every (answer tokens)').fill('1');
    await page.getByLabel('Pause between pieces (ms)').fill('0');
    // Every text the verdict badge shows while the answer plays, in order (no repeats).
    await page.evaluate(`(() => {
      const seen = (window.seenVerdicts = []);
      new MutationObserver(() => {
        const shown = document.getElementById('verdict')?.textContent;
        if (shown && seen[seen.length - 1] !== shown) seen.push(shown);
      }).observe(document.getElementById('result'), { subtree: true, childList: true, characterData: true });
    })()`);
    await play();
    await page.locator('#stream-status', { hasText: /^Played all \d+ pieces\.$/ }).waitFor();
    await expect(page.evaluate('window.seenVerdicts')).resolves.toEqual(['Not checked yet', 'Safe', 'Unsafe']);

    const calls = await takeStreamCalls();
    const [opened, ...rest] = calls;
    const appends = rest.slice(0, -1);
    const closed = rest.at(-1)!;
    expect([opened.method, opened.path, opened.status]).toEqual(['POST', '/v1/streams', 201]);
    const id: string = opened.body!.id;
    expect(appends.every(({ method, path, status }) => method === 'POST' && path === `/v1/streams/${id}/chunks` && status === 200)).toBe(true);
    expect([closed.method, closed.path, closed.status]).toEqual(['DELETE', `/v1/streams/${id}`, 200]);
    // The tenant's key on every call; the text only in bodies (the URLs hold the stream id alone).
    expect(calls.every(({ authorization }) => authorization === `Bearer ${tenant.key}`)).toBe(true);
    expect(calls.every(({ path }) => /^\/v1\/streams(\/[0-9a-f-]{36}(\/chunks)?)?$/.test(path))).toBe(true);
    // The pieces played make up the answer.
    expect(appends.at(-1)!.body!.answer_chars).toBe(ANSWER.length);

    const checks = appends.flatMap(({ body }) => (body!.check ? [body!.check] : []));
    const levels = checks.map((check) => check.result.safety_level as string);
    const firstUnsafe = levels.indexOf('unsafe');
    expect(firstUnsafe).toBeGreaterThan(0);
    expect(levels.slice(0, firstUnsafe).every((level) => level === 'safe')).toBe(true);

    // What the API reported: at the check that first saw the trigger word, which the page shows and marks.
    const flag = appends.at(-1)!.body!.first_flag;
    expect(flag).toEqual({ check: checks[firstUnsafe].check, answer_chars: ANSWER.indexOf(TRIGGER) + TRIGGER.length, safety_level: 'unsafe' });
    await expect(page.locator('#stream-first-flag').textContent()).resolves.toBe(`Unsafe at check ${flag.check}, after ${flag.answer_chars} characters`);
    await expect(page.locator('#streamed-answer').textContent()).resolves.toBe(`${ANSWER.slice(0, flag.answer_chars)}⚑${ANSWER.slice(flag.answer_chars)}`);
    await expect(page.locator('#verdict').textContent()).resolves.toBe('Unsafe');
    const listed = await page.locator('#stream-checks li').allInnerTexts();
    expect(listed).toHaveLength(checks.length);
    expect(listed[firstUnsafe]).toBe(`Unsafe check ${flag.check}, ${flag.answer_chars} characters: Violent`);
    expect(listed[firstUnsafe - 1]).toMatch(/^Safe check \d+, \d+ characters$/);

    // The same turn on /v1/moderate: safe up to the check before, unsafe at the flagged one.
    await expect(moderate(ANSWER.slice(0, checks[firstUnsafe - 1].answer_chars))).resolves.toBe('safe');
    await expect(moderate(ANSWER.slice(0, flag.answer_chars))).resolves.toBe('unsafe');
    // The page closed its stream.
    expect((await postJson(app, `/v1/streams/${id}/chunks`, { text: 'x' }, bearer(tenant))).statusCode).toBe(404);
  });

  it('stops at the first Unsafe verdict when asked to, the service closing the stream', async () => {
    await page.getByLabel('Stop at the first Unsafe verdict').check();
    await play();
    await page.locator('#stream-status', { hasText: /^The service closed the stream at the first Unsafe verdict/ }).waitFor();
    const calls = await takeStreamCalls();
    expect(calls.map(({ method }) => method)).not.toContain('DELETE');
    expect(calls.at(-1)!.body).toMatchObject({ closed: true, answer_chars: ANSWER.indexOf(TRIGGER) + TRIGGER.length });
    await expect(page.locator('#streamed-answer').textContent()).resolves.toBe(`${ANSWER.slice(0, ANSWER.indexOf(TRIGGER) + TRIGGER.length)}⚑`);
    await page.getByLabel('Stop at the first Unsafe verdict').uncheck();
  });

  it('shows a refusal instead of swallowing it: the tenant at its stream limit (429), then a wrong key (401)', async () => {
    const held = await postJson(app, '/v1/streams', { prompt: PROMPT }, bearer(tenant));
    expect(held.statusCode).toBe(201);
    try {
      await play();
      await page.locator('#stream-errors .error').waitFor();
      await expect(page.locator('#stream-errors').innerText()).resolves.toMatch(/^The stream failed: 429 STREAM_LIMIT_REACHED: .+ \(retry after \d+ s\)$/);
    } finally {
      await app.inject({ method: 'DELETE', url: `/v1/streams/${held.json().id}`, headers: bearer(tenant) });
    }
    await page.getByRole('button', { name: 'Play' }).waitFor();
    await page.getByLabel('API key').fill('qg_not-a-key-of-this-service');
    await play();
    await page.locator('#stream-errors .error').waitFor();
    await expect(page.locator('#stream-errors').innerText()).resolves.toMatch(/^The stream failed: 401 /);
    await page.getByLabel('API key').fill(tenant.key);
    expect((await takeStreamCalls()).map(({ status }) => status)).toEqual([429, 401]);
  });

  it('stops on request and closes the stream', async () => {
    await page.getByLabel('Pause between pieces (ms)').fill('1000');
    await play();
    await page.locator('#stream-checks li').first().waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('#stream-status', { hasText: /^Stopped after \d+ of \d+ pieces\.$/ }).waitFor();
    const calls = await takeStreamCalls();
    expect([calls.at(-1)!.method, calls.at(-1)!.status]).toEqual(['DELETE', 200]);
    expect(calls.length).toBeLessThan(5);
  });

  it('runs without a script error, logs nothing but the refusals it showed, and leaves a screenshot', async () => {
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(pageErrors).toEqual([]);
    // Chromium reports each refused fetch on the console itself; the page adds nothing (no text, no key).
    expect(consoleErrors.filter((text) => !/^Failed to load resource: the server responded with a status of (429|401)\b/.test(text))).toEqual([]);
  });
});
