/**
 * The live space demo in Chromium against the real `webex-auth serve` (demo mode): after authorizing from the space
 * page the person lands back on it, a message another person posts through the emulator's API appears without a
 * reload, and a hostile message (`<img onerror>`, a `javascript:` link) renders inert.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SEED } from '../../src/emulator/index.js';
import { emulatorToken } from '../server/support/emulator-person.js';
import { browserAvailable, browserRequired, launchBrowser, type Served, screenshot, serveDemo } from './support.js';

const run = browserAvailable || browserRequired;

describe.runIf(run)('live space demo in Chromium', () => {
  let served: Served;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let apiBase: string;
  let spaceId: string;
  let bobToken: string;

  /** Calls the emulator's REST API with `token`. */
  async function webex(token: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${apiBase}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  }

  beforeAll(async () => {
    if (!browserAvailable) throw new Error('REQUIRE_BROWSER=1 but /usr/bin/chromium is missing');
    served = await serveDemo();
    browser = await launchBrowser();
    const emulatorUrl = /Webex emulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(served.output())?.[1];
    if (!emulatorUrl) throw new Error(`no emulator URL in:\n${served.output()}`);
    apiBase = `${emulatorUrl}/v1`;
    const bot = DEMO_SEED.bots[0];
    const integration = DEMO_SEED.integrations[0];
    if (!bot || !integration) throw new Error('the demo seed has no bot or integration');
    const rooms = await webex(bot.token, 'GET', '/rooms');
    spaceId = String((rooms.body.items as { id: string; title: string }[]).find((r) => r.title === 'Demo space')?.id);
    // Bob: another person of the emulator, added to the space by the bot, with a token of his own.
    bobToken = await emulatorToken(
      {
        emulatorUrl,
        clientId: integration.clientId,
        clientSecret: integration.clientSecret,
        redirectUri: `${served.url}/oauth`,
      },
      'bob@example.com',
      ['spark:messages_write', 'spark:messages_read'],
    );
    expect(
      (await webex(bot.token, 'POST', '/memberships', { roomId: spaceId, personEmail: 'bob@example.com' })).status,
    ).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  /** Bob posts `markdown` to the demo space through the emulator's API. */
  async function bobPosts(markdown: string): Promise<void> {
    const posted = await webex(bobToken, 'POST', '/messages', { roomId: spaceId, markdown });
    expect(posted.status).toBe(200);
  }

  /** Authorizes from the space page as Alice; the callback leads back to /space, which then goes live. */
  async function openLiveSpace(page: Page): Promise<void> {
    await page.goto(`${served.url}/space`);
    await page.click('button:has-text("Authorize for the space demo")');
    await page.waitForSelector('input[name="email"]');
    await page.fill('input[name="email"]', 'alice@example.com');
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(served.url)),
      page.click('button[name="decision"][value="accept"]'),
    ]);
    await page.waitForSelector('#messages');
    expect(new URL(page.url()).pathname).toBe('/space');
    await page.waitForSelector('#messages[data-live="on"]');
  }

  it('a message another person posts appears without a reload; a hostile one renders inert', async () => {
    const page = await browser.context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const navigations: string[] = [];
    await openLiveSpace(page);
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    // The seeded markdown message renders as markdown, not as `**…**`.
    expect(await page.innerHTML('#messages')).toContain('<strong>local emulator</strong>');

    const hello = `Hello from Bob ${Date.now()}`;
    await bobPosts(hello);
    await page.waitForSelector(`#messages li:has-text("${hello}")`);
    expect(await page.textContent('#live-status')).toContain('Live');

    const marker = `inert ${Date.now()}`;
    await bobPosts(
      `${marker} <img src=x onerror=alert(1)> [click me](javascript:alert(1)) [site](https://example.com/)`,
    );
    const item = page.locator(`#messages li:has-text("${marker}")`);
    await item.waitFor();
    // The raw HTML is text; the javascript: link is no link; the https one is, opening safely in a new tab.
    expect(await item.textContent()).toContain('<img src=x onerror=alert(1)>');
    expect(await page.locator('#messages img').count()).toBe(0);
    expect(await page.locator('[onerror]').count()).toBe(0);
    const hrefs = await item.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(['https://example.com/']);
    expect(await item.locator('a').getAttribute('rel')).toBe('noopener noreferrer nofollow');
    await item.locator('text=click me').click();
    // Give an alert every chance to fire (the image error, the click) before concluding none did.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
    expect(dialogs).toEqual([]);
    // Both arrived without a reload.
    expect(navigations).toEqual([]);
    await screenshot(page, '07-space-live');
    await page.close();
  });
});
