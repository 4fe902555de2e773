import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Page } from 'playwright-core';
import { Browser, describeWithChromium, launchChromium } from './support/chromium';
import { createCacheDir, engineThatFailsToLoad, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';
import { testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(180_000);

/** Where the suite leaves its screenshot (git-ignored, like every .cache/). */
export const SCREENSHOT = join(__dirname, '..', '.cache', 'screenshots', 'playground.png');

describe('playground files (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startTestApp({ engine: engineThatFailsToLoad() });
  });

  afterAll(() => app.close());

  it('serves the page at / with a policy that keeps it to its own files and this service', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.body).toContain('<script src="playground.js" defer></script>');
    // No CDN: every URL the page loads is its own.
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const [url, type] of [
      ['/playground.js', /javascript/],
      ['/playground.css', /^text\/css/],
    ] as const) {
      const asset = await app.inject({ method: 'GET', url });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['content-type']).toMatch(type);
    }
  });

  it('leaves every other path to the API, which answers its JSON 404', async () => {
    const response = await app.inject({ method: 'GET', url: '/nothing-here.html' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });

  it('is not served with PLAYGROUND_ENABLED=false', async () => {
    const withoutPlayground = await startTestApp({ env: { PLAYGROUND_ENABLED: 'false' }, engine: engineThatFailsToLoad() });
    try {
      const response = await withoutPlayground.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await withoutPlayground.close();
    }
  });
});

/**
 * The playground in Debian's Chromium (playwright-core), against the service on a real port with the demo
 * model: typing, clicking and the keyboard, the rendered verdict, the history, the live panel, the API key
 * header. Leaves a screenshot at SCREENSHOT.
 */
describeWithChromium('playground in a browser (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const authorizations: Array<string | undefined> = [];
  // Anonymous access stays on (as in development): the key field is optional, and a tenant's key is honoured.
  const tenant = testTenant('playground');

  beforeAll(async () => {
    cacheDir = createCacheDir();
    app = await startTestApp({ env: { QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_TENANTS_FILE: writeTenantsFile(cacheDir, [tenant]) } });
    await app.listen(0, '127.0.0.1');
    await waitUntilReady(app);
    browser = await launchChromium();
    page = await browser.context.newPage();
    // A script error, a refused request (the content security policy) or a failed load fails the suite.
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('requestfailed', (request) => problems.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on('request', (request) => request.url().endsWith('/v1/moderate') && authorizations.push(request.headers().authorization));
    await page.goto(await app.getUrl());
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    removeCacheDir(cacheDir);
  });

  const verdict = () => page.locator('#verdict');

  it('labels every field', async () => {
    await expect(page.title()).resolves.toBe('Qwen3Guard-Gen playground');
    for (const label of ['User message', 'Assistant response (optional)', 'API key (optional)']) {
      await expect(page.getByLabel(label, { exact: true }).count()).resolves.toBe(1);
    }
    await expect(page.locator('#result').getAttribute('aria-live')).resolves.toBe('polite');
  });

  it('asks for a message before sending anything', async () => {
    await page.getByRole('button', { name: 'Moderate' }).click();
    await expect(page.locator('#result').textContent()).resolves.toBe('Write a user message to check.');
    expect(authorizations).toHaveLength(0);
  });

  it('moderates what is typed and shows the verdict, categories, probabilities, model and latency', async () => {
    await page.getByLabel('User message').fill('How do I build a bomb?');
    await page.getByRole('button', { name: 'Moderate' }).click();
    await verdict().waitFor();
    await expect(verdict().textContent()).resolves.toBe('Unsafe');
    await expect(verdict().getAttribute('class')).resolves.toContain('level-unsafe');
    const facts = await page.locator('#result dl').innerText();
    expect(facts).toMatch(/Categories\s+Violent/);
    expect(facts).toMatch(/Refusal\s+not judged for a message/);
    expect(facts).toMatch(/Model\s+qwen3guard-gen-demo/);
    expect(facts).toMatch(/Latency\s+\d+ ms round trip \(model \d+ ms\)/);
    const bars = await page.locator('#result .bars li').allInnerTexts();
    expect(bars).toHaveLength(3);
    expect(bars[2]).toMatch(/^Unsafe\s+\d+\.\d%$/);
    expect(authorizations).toEqual([undefined]);
  });

  it('works from the keyboard alone, judging a reply, and sends the API key as a bearer token', async () => {
    await page.getByLabel('User message').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Tell me a joke.');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Sorry, I cannot help with that.');
    await page.keyboard.press('Tab');
    await page.keyboard.type(tenant.key);
    await page.keyboard.press('Enter');
    await page.locator('#verdict', { hasText: /^Safe$/ }).waitFor();
    const facts = await page.locator('#result dl').innerText();
    expect(facts).toMatch(/Judged\s+the assistant response/);
    expect(facts).toMatch(/Refusal\s+Yes/);
    expect(authorizations.at(-1)).toBe(`Bearer ${tenant.key}`);
  });

  it('keeps a history, newest first, that brings a check back', async () => {
    const items = page.locator('#history li button');
    await expect(items.count()).resolves.toBe(2);
    await expect(items.nth(0).innerText()).resolves.toMatch(/^Safe\s+Sorry, I cannot help with that\./);
    await items.nth(1).click();
    await expect(verdict().textContent()).resolves.toBe('Unsafe');
    await expect(page.getByLabel('User message').inputValue()).resolves.toBe('How do I build a bomb?');
  });

  it("shows the service's own request rate, latency and verdict mix", async () => {
    await page.locator('#live-mix-legend', { hasText: 'Unsafe 1' }).waitFor();
    const legend = await page.locator('#live-mix-legend').innerText();
    expect(legend).toMatch(/Safe 1 \(50%\)/);
    expect(legend).toMatch(/Unsafe 1 \(50%\)/);
    expect(Number(await page.locator('#live-rate').innerText())).toBeGreaterThan(0);
    await expect(page.locator('#live-mean').innerText()).resolves.toMatch(/^\d+ ms$/);
    await expect(page.locator('#live-errors').innerText()).resolves.toBe('0 of 2');
  });

  it('loads without a script error or a refused request, and leaves a screenshot', async () => {
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(problems).toEqual([]);
  });
});

/**
 * The playground's streaming mode in Chromium: the response played a word at a time into /v1/streams, the
 * verdict shown after each check, and where it first turned, as the API said it.
 */
describeWithChromium('playground streaming mode in a browser (e2e)', () => {
  const PROMPT = 'Tell me about chemistry.';
  const ANSWER = 'Chemistry grew out of alchemy and the old study of metals. It studies matter and how it changes. Then a man drew a gun.';
  const TOO_LONG_WORD = 'x'.repeat(90);
  let app: NestFastifyApplication;
  let cacheDir: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const streamRequests: Array<{ method: string; url: string; body: string | null; authorization?: string }> = [];
  const chunkStates: Array<Record<string, any>> = [];
  const tenant = testTenant('stream-player');

  beforeAll(async () => {
    cacheDir = createCacheDir();
    app = await startTestApp({
      env: { QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_TENANTS_FILE: writeTenantsFile(cacheDir, [tenant]), STREAM_MAX_CHUNK_CHARS: '80' },
    });
    await app.listen(0, '127.0.0.1');
    await waitUntilReady(app);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => {
      if (!request.url().includes('/v1/streams')) return;
      streamRequests.push({ method: request.method(), url: request.url(), body: request.postData(), authorization: request.headers().authorization });
    });
    page.on('response', async (response) => {
      if (/\/v1\/streams\/[^/]+\/chunks$/.test(response.url()) && response.ok()) chunkStates.push(await response.json());
    });
    await page.goto(await app.getUrl());
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    removeCacheDir(cacheDir);
  });

  const play = async (response: string) => {
    await page.getByLabel('User message').fill(PROMPT);
    await page.getByLabel('Assistant response (optional)').fill(response);
    await page.getByRole('button', { name: 'Stream the response' }).click();
    await page.locator('#stream-button:not([disabled])').waitFor();
  };

  it('plays the response word by word and shows the verdict turning from Safe to Unsafe where the API says', async () => {
    await page.getByLabel('API key (optional)').fill(tenant.key);
    await play(ANSWER);

    // What the page sent: one stream, the answer in order and in pieces, each call with the key, no text in a URL.
    const chunks = streamRequests.filter((request) => request.url.endsWith('/chunks'));
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.map((request) => JSON.parse(request.body ?? '{}').text).join('')).toBe(ANSWER);
    expect(streamRequests.every((request) => request.authorization === `Bearer ${tenant.key}`)).toBe(true);
    expect(streamRequests.some((request) => /chemistry|alchemy|gun/i.test(request.url))).toBe(false);
    expect(streamRequests.at(-1)?.method).toBe('DELETE');

    // What the API answered: Safe checks first, then Unsafe, with first_flag on the turn.
    const checks = chunkStates.filter((state) => state.check).map((state) => state.check);
    const levels: string[] = checks.map((check) => check.result.safety_level);
    expect(levels[0]).toBe('safe');
    expect(levels.at(-1)).toBe('unsafe');
    const firstFlag = chunkStates.at(-1)?.first_flag;
    expect(firstFlag).toMatchObject({ safety_level: 'unsafe' });
    expect(firstFlag.check).toBeGreaterThan(1);

    // What the page shows: every check in order, the last verdict, and the turn as the API reported it.
    const shown = await page.locator('#stream-checks li').allInnerTexts();
    const levelNames: Record<string, string> = { safe: 'Safe', controversial: 'Controversial', unsafe: 'Unsafe' };
    expect(shown.map((line) => line.split(/\s/)[0])).toEqual(levels.map((level) => levelNames[level]));
    await expect(page.locator('#stream-verdict').textContent()).resolves.toBe('Unsafe');
    await expect(page.locator('#stream-first-flag').textContent()).resolves.toBe(
      `First flagged Unsafe at check ${firstFlag.check}, after ${firstFlag.answer_chars} characters of the answer.`,
    );
    await expect(page.locator('#stream-answer').textContent()).resolves.toBe(ANSWER);
    const turned = await page.locator('#stream-answer mark.flagged').textContent();
    expect(turned).toContain('gun');
    expect(ANSWER.indexOf(turned!) + turned!.length).toBe(firstFlag.answer_chars);
    await expect(page.locator('#stream-status').textContent()).resolves.toMatch(/^Done: \d+ answer tokens, \d+ checks\.$/);
    await page.screenshot({ path: join(SCREENSHOT, '..', 'playground-streaming.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("shows the service's refusal of a piece and closes the stream", async () => {
    streamRequests.length = 0;
    await play(`Chemistry grew out of ${TOO_LONG_WORD} alchemy.`);
    await expect(page.locator('#stream-status').textContent()).resolves.toMatch(/^The stream failed: 413 TEXT_TOO_LONG: /);
    await expect(page.locator('#stream-status').getAttribute('class')).resolves.toBe('error');
    expect(streamRequests.at(-1)?.method).toBe('DELETE');
    // Chromium reports the refused request on the console: the only problem of this run.
    expect(problems).toEqual([expect.stringContaining('413')]);
  });
});
