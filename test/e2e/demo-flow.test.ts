/**
 * The whole demo flow in a real browser against the real `webex-auth serve` (demo mode, emulator in-process):
 * home → pick scopes → consent → accept → result; decline; 403 explained; two tabs; the space demo's composer.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, browserRequired, launchBrowser, type Served, screenshot, serveDemo } from './support.js';

const run = browserAvailable || browserRequired;

describe.runIf(run)('demo flow in Chromium', () => {
  let served: Served;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  beforeAll(async () => {
    if (!browserAvailable) throw new Error('REQUIRE_BROWSER=1 but /usr/bin/chromium is missing');
    served = await serveDemo();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  /** On the home page: picks exactly `scopes` and presses Start. */
  async function pickAndStart(page: Page, scopes: string[]) {
    await page.goto(served.url);
    for (const box of await page.locator('input[name="scope"]').all()) {
      const value = await box.getAttribute('value');
      if (value && scopes.includes(value)) await box.check();
      else await box.uncheck();
    }
    await page.click('#start');
    await page.waitForSelector('input[name="email"]');
  }

  /** On the emulator's consent page: signs in as Alice and answers. */
  async function consent(page: Page, decision: 'accept' | 'decline') {
    await page.fill('input[name="email"]', 'alice@example.com');
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(served.url)),
      page.click(`button[name="decision"][value="${decision}"]`),
    ]);
  }

  it('home → pick scopes → consent → accept → the result page shows the demo person', async () => {
    expect(served.output()).toMatch(/Demo mode: .*Webex emulator at http:\/\/127\.0\.0\.1:\d+, not from Webex/);
    expect(served.output()).toContain(`listening on ${served.url}`);
    const page = await browser.context.newPage();
    await page.goto(served.url);
    expect(await page.textContent('.banner')).toContain(
      'Demo mode — tokens come from the local Webex emulator, not from Webex',
    );
    await screenshot(page, '01-home');
    await pickAndStart(page, ['spark:people_read', 'spark:rooms_read']);
    await screenshot(page, '02-consent');
    await consent(page, 'accept');
    // The callback answers with the connection page, and app.js gives the page its own address: a reload opens the
    // page again instead of the spent callback (which would be "already used").
    await page.waitForURL(/\/connections\/[A-Za-z0-9_-]+$/);
    await page.waitForSelector('#person-name');
    expect(await page.textContent('#person-name')).toBe('Alice Example');
    await page.reload();
    expect(page.url()).toMatch(/\/connections\/[A-Za-z0-9_-]+$/);
    expect(await page.textContent('#person-name')).toBe('Alice Example');
    expect(await page.textContent('body')).toContain('expires in 13 days');
    expect(await page.textContent('.banner')).toContain('Demo mode');
    await page.click('button[data-reveal="access-token"]');
    const revealed = await page.textContent('#access-token');
    expect(revealed).not.toContain('••');
    await page.click('button[data-reveal="access-token"]');
    expect(await page.textContent('#access-token')).toContain('••');
    await page.click('#try-people-me');
    await page.waitForSelector('#try-status');
    expect(await page.textContent('#try-status')).toBe('HTTP 200');
    await screenshot(page, '03-result');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, '03-result-phone');
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.close();
  });

  it('decline shows a clear page with Try again', async () => {
    const page = await browser.context.newPage();
    await pickAndStart(page, ['spark:people_read']);
    await consent(page, 'decline');
    await page.waitForSelector('#error-title');
    expect(await page.textContent('#error-title')).toBe('Authorization declined');
    expect(await page.textContent('a.button.primary')).toBe('Try again');
    await screenshot(page, '04-declined');
    await page.close();
  });

  it('with spark:rooms_read only, people/me is refused and the 403 names the scope that fixes it', async () => {
    const page = await browser.context.newPage();
    await pickAndStart(page, ['spark:rooms_read']);
    await consent(page, 'accept');
    await page.waitForSelector('#try-people-me');
    await page.click('#try-people-me');
    await page.waitForSelector('#try-explanation');
    expect(await page.textContent('#try-status')).toBe('HTTP 403');
    const explanation = await page.textContent('#try-explanation');
    expect(explanation).toContain('spark:people_read');
    expect(explanation).toContain('Authorize again with spark:people_read');
    await screenshot(page, '05-forbidden');
    await page.click('#try-rooms');
    await page.waitForSelector('#try-status');
    expect(await page.textContent('#try-status')).toBe('HTTP 200');
    await page.close();
  });

  it('two tabs run two flows at once', async () => {
    const one = await browser.context.newPage();
    const two = await browser.context.newPage();
    await pickAndStart(one, ['spark:people_read']);
    await pickAndStart(two, ['spark:people_read', 'spark:rooms_read']);
    await consent(two, 'accept');
    await consent(one, 'accept');
    await one.waitForSelector('#person-name');
    await two.waitForSelector('#person-name');
    expect(await one.textContent('#person-name')).toBe('Alice Example');
    expect(await two.textContent('#person-name')).toBe('Alice Example');
    await one.close();
    await two.close();
  });

  it('space demo: the bot adds the person, a message posted through the composer shows up', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${served.url}/space`);
    // The latest connection lacks the message scopes: the page offers to authorize with them.
    await page.click('button:has-text("Authorize")');
    await page.waitForSelector('input[name="email"]');
    await consent(page, 'accept');
    // Authorizing from the space page leads back to it.
    await page.waitForSelector('#message-text');
    expect(new URL(page.url()).pathname).toBe('/space');
    const text = `Hello from the composer ${Date.now()}`;
    await page.fill('#message-text', text);
    await Promise.all([page.waitForURL(/\/space$/), page.click('#send')]);
    expect(await page.textContent('#messages')).toContain(text);
    await screenshot(page, '06-space');
    await page.close();
  });
});
