import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (apt-get install chromium); never a downloaded browser. */
export const CHROMIUM = process.env.SUANWANG_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Whether the browser suites can run: a reason to skip them when chromium is absent, or false. With
 * SUANWANG_REQUIRE_BROWSER=1 (CI) a missing chromium is an error, not a skip.
 */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const why = `chromium is not installed at ${CHROMIUM} (install it with: apt-get install chromium)`;
  if (process.env.SUANWANG_REQUIRE_BROWSER === '1') throw new Error(`SUANWANG_REQUIRE_BROWSER=1 but ${why}`);
  return `skipped: ${why}`;
}

/** Builds the portal (npm run build:web) unless web/dist has one. */
export function ensurePortalBuilt(): void {
  if (existsSync('web/dist/index.html')) return;
  const r = spawnSync('npm', ['run', 'build:web'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build:web failed');
}

export interface Browser {
  readonly context: BrowserContext;
  /** Console errors and uncaught page errors seen so far, on every page of the context. */
  readonly errors: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Chromium headless with a fresh profile, Chinese locale, and every console error recorded. */
export async function launchBrowser(options: { readonly locale?: string } = {}): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'suanwang-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    locale: options.locale ?? 'zh-CN',
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // A loaded CI machine runs other suites beside this one: wait for events generously, never on a clock.
  context.setDefaultTimeout(60_000);
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console error on ${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error on ${page.url()}: ${e.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    errors,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
