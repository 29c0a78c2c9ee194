/**
 * The web app against reflected and stored XSS, clickjacking and inline-script injection, on a real `serve` process
 * whose Webex (the emulator) returns a hostile display name. HTTP checks always run; the browser checks drive
 * Debian's Chromium (skipped when absent unless REQUIRE_BROWSER=1, then they fail).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';
import { HttpBrowser } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.REQUIRE_BROWSER === '1')
  throw new Error(`REQUIRE_BROWSER=1 but ${CHROMIUM} is missing`);

/** Markup that runs script if it ever reaches a page unescaped; each sets a global the browser test looks for. */
const PAYLOAD = `"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script><svg onload="window.__xss=3">`;
/** The payload's dangerous pieces, as they would appear unescaped. */
const RAW = ['<img src=x', '<script>window.__xss', '<svg onload', '"><img'];

function expectEscaped(body: string, what: string) {
  for (const raw of RAW) expect(body.includes(raw), `${what} reflects ${raw} unescaped`).toBe(false);
}

let stack: Stack;
let connectionPath: string;
let session: HttpBrowser;
beforeAll(async () => {
  stack = await startStack({ displayName: `Mallory ${PAYLOAD}` });
  session = new HttpBrowser(stack.server.url);
  connectionPath = await session.connect(['spark:all', 'spark:people_read', 'spark:rooms_read']);
});
afterAll(async () => {
  await stack?.close();
});

describe('reflected and stored values are escaped', () => {
  it('error and error_description in the callback', async () => {
    const b = new HttpBrowser(stack.server.url);
    const callback = new URL(await b.authorizeUntilCallback(['spark:all']), stack.server.url);
    const state = callback.searchParams.get('state') ?? '';
    const queries: Record<string, string>[] = [
      { error: 'access_denied', error_description: PAYLOAD, state },
      { error: PAYLOAD, error_description: PAYLOAD, state: PAYLOAD },
      { code: PAYLOAD, state: PAYLOAD },
    ];
    for (const q of queries) {
      const r = await b.get(`/oauth?${new URLSearchParams(q)}`);
      expect(r.res.status).toBeLessThan(500);
      expect(r.res.headers.get('content-type')).toMatch(/^text\/html/);
      expectEscaped(r.body, `callback ${Object.keys(q)}`);
    }
  });

  it('scope names sent to /oauth/start', async () => {
    const b = new HttpBrowser(stack.server.url);
    await b.get('/home');
    const forms: Record<string, string>[] = [
      { scope: PAYLOAD },
      { scopes: `spark:all ${PAYLOAD}` },
      { preset: PAYLOAD.slice(0, 40) },
    ];
    for (const form of forms) {
      const r = await b.post('/oauth/start', form);
      expect(r.res.status).toBe(400);
      expectEscaped(r.body, `start ${Object.keys(form)}`);
    }
  });

  it('the display name Webex returns, on the connection page and the home page', async () => {
    const page = await session.get(connectionPath);
    expect(page.res.status).toBe(200);
    expect(page.body).toContain('Mallory');
    expectEscaped(page.body, 'connection page');
    expectEscaped((await session.get('/home')).body, 'home page');
  });

  it('every page forbids framing and inline script in its headers', async () => {
    for (const path of ['/home', connectionPath, '/oauth?error=x&state=y', '/nope']) {
      const r = await session.get(path);
      expect(r.res.headers.get('x-frame-options'), path).toBe('DENY');
      const csp = r.res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toMatch(/script-src 'self'(;|$)/);
      expect(csp, path).not.toContain('unsafe-inline');
      expect(r.res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.res.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });
});

describe.skipIf(!haveBrowser)('in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function pageWithSession() {
    const context = await browser.newContext();
    await context.addCookies([...session.cookies].map(([name, value]) => ({ name, value, url: stack.server.url })));
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    return { context, page, dialogs };
  }

  it('no payload runs on the connection page, the home page or the callback error page', async () => {
    const { context, page, dialogs } = await pageWithSession();
    const urls = [
      connectionPath,
      '/home',
      `/oauth?${new URLSearchParams({ error: 'access_denied', error_description: PAYLOAD, state: PAYLOAD })}`,
    ];
    for (const path of urls) {
      await page.goto(new URL(path, stack.server.url).toString());
      await page.waitForLoadState('load');
      expect(await page.evaluate(() => (window as { __xss?: number }).__xss), path).toBeUndefined();
    }
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('CSP blocks inline script even if markup were injected into a page', async () => {
    const { context, page } = await pageWithSession();
    await page.goto(new URL(connectionPath, stack.server.url).toString());
    const outcome = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      const w = window as { __xss?: number };
      // What a successful injection would add: an inline handler, an inline script, a javascript: URL.
      document.body.insertAdjacentHTML('beforeend', '<img src="data:," onload="window.__xss=1">');
      const s = document.createElement('script');
      s.textContent = 'window.__xss = 2';
      document.body.append(s);
      const a = document.createElement('a');
      a.href = 'javascript:window.__xss=3';
      document.body.append(a);
      a.click();
      await new Promise((r) => setTimeout(r, 100));
      return { xss: w.__xss, violations };
    });
    expect(outcome.xss).toBeUndefined();
    expect(outcome.violations.length).toBeGreaterThan(0);
    expect(outcome.violations.every((v) => v.startsWith('script-src'))).toBe(true);
    await context.close();
  });

  it('another origin cannot frame the app (clickjacking)', async () => {
    const { context, page } = await pageWithSession();
    // The emulator's origin plays the attacker's site.
    await page.goto(`${stack.emulator.url}/_emulator/stats`);
    const framed = await page.evaluate(async (target) => {
      const f = document.createElement('iframe');
      f.src = target;
      document.body.append(f);
      await new Promise((r) => f.addEventListener('load', r, { once: true }));
      try {
        return f.contentDocument?.body?.innerHTML ?? 'cross-origin';
      } catch {
        return 'cross-origin';
      }
    }, new URL(connectionPath, stack.server.url).toString());
    const frame = page.frames().find((f) => f !== page.mainFrame());
    // biome-ignore lint/performance/useDomNodeTextContent: innerText is what the framed page shows, the asserted thing
    const text = frame ? await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '') : '';
    expect(text).not.toContain('Mallory');
    expect(framed).not.toContain('Mallory');
    await context.close();
  });
});
