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
