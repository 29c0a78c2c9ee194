/**
 * Browser-test support: the real `dist/cli/main.js serve` child process in demo mode on a free port, and Debian's
 * Chromium driven by playwright-core with a fresh profile. Tests skip when Chromium is absent unless REQUIRE_BROWSER=1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { freePort } from '../support/free-port.js';

/** A free loopback port (test/support/free-port.ts). */
export { freePort };

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';
/** Whether browser tests can run here. */
export const browserAvailable = existsSync(CHROMIUM);
/** Whether a missing browser is a failure rather than a skip. */
export const browserRequired = process.env.REQUIRE_BROWSER === '1';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where screenshots go (gitignored). */
export const SCREENSHOTS = join(root, 'test', 'e2e', '__screenshots__');
const MAIN = join(root, 'dist', 'cli', 'main.js');

/** A running `webex-auth serve` in demo mode. */
export interface Served {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `node dist/cli/main.js serve` with no credentials (demo mode) on a free port, in a temp home. */
export async function serveDemo(extraEnv: Record<string, string> = {}): Promise<Served> {
  const port = await freePort();
  const home = mkdtempSync(join(tmpdir(), 'webex-auth-e2e-'));
  const env: Record<string, string> = {
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    PORT: String(port),
    HOST: '127.0.0.1',
    WEBEX_REDIRECT_URI: `http://localhost:${port}/oauth`,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const served = await startCli(['serve'], env, { cwd: home });
  return {
    url: served.url,
    output: served.output,
    async stop() {
      await served.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The Chromium flags every browser test launches with. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches Chromium with a fresh profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'webex-auth-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1100, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under test/e2e/__screenshots__/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// ——— For the team-mode and two-instance tests. ———

/** Launches Chromium without a persistent profile: each `browser.newContext()` is a fresh, isolated browser. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
}

/** The team seed (test/e2e/fixtures/team-seed.json) as a file in `dir` whose integration registers `redirectUris`. */
export function writeTeamSeed(dir: string, redirectUris: string[]): string {
  const seed = JSON.parse(readFileSync(join(root, 'test', 'e2e', 'fixtures', 'team-seed.json'), 'utf8')) as {
    integrations: { clientId: string; clientSecret: string; redirectUris: string[] }[];
  };
  for (const integration of seed.integrations) integration.redirectUris = [...redirectUris];
  const file = join(dir, 'team-seed.json');
  writeFileSync(file, JSON.stringify(seed, null, 2));
  return file;
}

/** The team seed's integration (client id and secret). */
export function teamIntegration(): { clientId: string; clientSecret: string } {
  const seed = JSON.parse(readFileSync(join(root, 'test', 'e2e', 'fixtures', 'team-seed.json'), 'utf8')) as {
    integrations: { clientId: string; clientSecret: string }[];
  };
  const first = seed.integrations[0];
  if (!first) throw new Error('the team seed has no integration');
  return { clientId: first.clientId, clientSecret: first.clientSecret };
}

/** A `dist/cli/main.js` child process that serves HTTP (`serve`, `emulator`). */
export interface CliServer {
  /** The URL it printed after "listening on". */
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs `node dist/cli/main.js <args>` with exactly `env` (plus PATH and WEBEX_AUTH_KEYCHAIN=off) in `cwd`, and
 * resolves once it prints "listening on <url>"; rejects with its output when it exits first or `timeoutMs` passes.
 */
export async function startCli(
  args: string[],
  env: Record<string, string>,
  options: { cwd: string; timeoutMs?: number },
): Promise<CliServer> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const child: ChildProcess = spawn(process.execPath, [MAIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', WEBEX_AUTH_KEYCHAIN: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
  };
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const m = /listening on (https?:\/\/\S+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`${args[0]} exited (${code ?? signal}):\n${out}`)));
      timer = setTimeout(
        () => reject(new Error(`${args[0]} did not print "listening on" within ${timeoutMs} ms:\n${out}`)),
        timeoutMs,
      );
    });
    return { url, output: () => out, stop };
  } catch (error) {
    await stop(2_000);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** A standalone emulator with the team seed, one team-mode `serve` on it, and Chromium: the team-mode browser tests. */
export interface TeamStack {
  dir: string;
  emulator: CliServer;
  served: CliServer;
  /** `http://localhost:<port>` (the redirect URI's origin). */
  base: string;
  browser: Browser;
  /** Stops everything and removes the temp dir. */
  close(): Promise<void>;
}

/** Starts a {@link TeamStack} (carol is admin; example.com accounts may sign in); `prefix` names its temp dir. */
export async function startTeamStack(prefix: string): Promise<TeamStack> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const seed = writeTeamSeed(dir, [`${base}/oauth`]);
  const emulator = await startCli(['emulator', '--port', '0', '--seed', seed], { HOME: dir }, { cwd: dir });
  const home = join(dir, 'serve');
  mkdirSync(home);
  const { clientId, clientSecret } = teamIntegration();
  const { generateKeyEntry } = await import('../../src/vault/crypto/keyring.js');
  const served = await startCli(
    ['serve', '--port', String(port), '--host', '127.0.0.1'],
    {
      HOME: home,
      XDG_DATA_HOME: join(home, 'data'),
      WEBEX_AUTH_DB: join(home, 'webex-auth.db'),
      WEBEX_AUTH_MODE: 'team',
      WEBEX_CLIENT_ID: clientId,
      WEBEX_CLIENT_SECRET: clientSecret,
      WEBEX_API_BASE: `${emulator.url}/v1`,
      WEBEX_REDIRECT_URI: `${base}/oauth`,
      ADMIN_EMAILS: 'carol@example.com',
      ALLOWED_EMAIL_DOMAINS: 'example.com',
      WEBEX_AUTH_KEYS: generateKeyEntry(),
      LOG_LEVEL: 'warn',
    },
    { cwd: home },
  );
  const browser = await launchChromium();
  return {
    dir,
    emulator,
    served,
    base,
    browser,
    async close() {
      await browser.close();
      await served.stop();
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Clicks `selector` (a form button that leaves for the emulator's consent page) and checks the browser got there;
 * a refusal by the server (such as "Form expired") fails at once with the page's title and text.
 */
export async function clickToConsent(stack: Pick<TeamStack, 'emulator'>, page: Page, selector: string): Promise<void> {
  await page.click(selector);
  await page.waitForLoadState('domcontentloaded');
  const where = new URL(page.url());
  if (where.origin !== stack.emulator.url) {
    const text = ((await page.textContent('main').catch(() => '')) ?? '').replace(/\s+/g, ' ').trim();
    throw new Error(`${selector} led to ${where.pathname} "${await page.title()}": ${text.slice(0, 300)}`);
  }
}

/** On the emulator's consent page: signs in as `email` and accepts; waits until back on the server's page. */
export async function consentAs(stack: Pick<TeamStack, 'emulator' | 'base'>, page: Page, email: string): Promise<void> {
  await page.waitForSelector('input[name="email"]');
  if (!page.url().startsWith(stack.emulator.url)) throw new Error(`not on the emulator's consent page: ${page.url()}`);
  await page.fill('input[name="email"]', email);
  await Promise.all([
    page.waitForURL((u) => u.origin === stack.base),
    page.click('button[name="decision"][value="accept"]'),
  ]);
  await page.waitForLoadState('domcontentloaded');
}

/** What {@link useTeamBrowser} gives a team-mode browser suite; use it inside tests (the stack starts in `beforeAll`). */
export interface TeamBrowser {
  /** `http://localhost:<port>` (the redirect URI's origin). */
  readonly base: string;
  /** A fresh browser context (no cookies; clipboard allowed for `base` when asked) with one page, closed after all. */
  fresh(): Promise<{ context: BrowserContext; page: Page }>;
  /** {@link clickToConsent} on this suite's stack. */
  clickToConsent(page: Page, selector: string): Promise<void>;
  /** {@link consentAs} on this suite's stack. */
  consentAs(page: Page, email: string): Promise<void>;
  /** On the home page: Start (with the scopes as picked) → consent as `email` → the new connection's page; its id. */
  startConnection(page: Page, email: string): Promise<string>;
}

/**
 * In the current describe block: starts a {@link TeamStack} (`prefix` names its temp dir) before all tests, fails
 * at once when REQUIRE_BROWSER=1 finds no Chromium, and closes every context opened by `fresh` and the stack after
 * all. `clipboard` lets each fresh context read and write the clipboard of the server's origin.
 */
export function useTeamBrowser(prefix: string, options: { clipboard?: boolean } = {}): TeamBrowser {
  let stack: TeamStack | undefined;
  const contexts: BrowserContext[] = [];
  const started = (): TeamStack => {
    if (!stack) throw new Error('the team stack is not started yet: use it inside a test');
    return stack;
  };

  beforeAll(async () => {
    if (!browserAvailable) throw new Error('REQUIRE_BROWSER=1 but /usr/bin/chromium is missing');
    stack = await startTeamStack(prefix);
    expect(stack.emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await stack?.close();
  });

  return {
    get base() {
      return started().base;
    },
    async fresh() {
      const { browser, base } = started();
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
      contexts.push(context);
      context.setDefaultTimeout(15_000);
      return { context, page: await context.newPage() };
    },
    clickToConsent: (page, selector) => clickToConsent(started(), page, selector),
    consentAs: (page, email) => consentAs(started(), page, email),
    async startConnection(page, email) {
      await clickToConsent(started(), page, '#start');
      await consentAs(started(), page, email);
      // The callback's answer is the connection page; app.js puts its own address in the address bar.
      await page.waitForURL(/\/connections\/[A-Za-z0-9_-]+$/);
      await page.waitForSelector('#person-name');
      const id = /\/connections\/([A-Za-z0-9_-]+)$/.exec(new URL(page.url()).pathname)?.[1];
      expect(id, page.url()).toBeTruthy();
      return id as string;
    },
  };
}
