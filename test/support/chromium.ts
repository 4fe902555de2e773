import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';

/** Debian's `chromium` package (.ci/run installs it). playwright-core never downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * `describe` for suites that drive a real browser. Without Chromium: under CI the suite fails with the
 * package to install; elsewhere it is skipped with a console message.
 */
export function describeWithChromium(title: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(title, body);
    return;
  }
  const message = `missing ${CHROMIUM}: apt-get install -y --no-install-recommends chromium`;
  if (process.env.CI) {
    describe(title, () => {
      it('has Chromium', () => {
        throw new Error(`${message} (CI is set, so a missing browser fails the suite; .ci/run must install it)`);
      });
    });
  } else {
    console.warn(`[browser] skipping "${title}": ${message}`);
    describe.skip(`${title} (skipped: ${message})`, body);
  }
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile, removed on close; no network but what the page asks for. */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'qwen3guard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1280, height: 1000 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
