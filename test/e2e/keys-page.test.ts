/**
 * The keys page in a real browser: one standalone emulator (`dist/cli/main.js emulator`, the team seed) and one
 * `dist/cli/main.js serve` in team mode. Alice signs in, connects, makes a key on /keys, copies it with the copy
 * button (the clipboard is read back), uses it on the broker (200), and revokes it (the same call: 401); erin, another
 * member, does not see alice's key on her /keys. Screenshots go to test/e2e/__screenshots__.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserAvailable, browserRequired, screenshot, useTeamBrowser } from './support.js';

const run = browserAvailable || browserRequired;

describe.runIf(run)('the keys page in Chromium (team mode)', () => {
  const team = useTeamBrowser('webex-auth-keys-e2e-', { clipboard: true });
  const { fresh, clickToConsent, consentAs } = team;

  /** Landing page → Sign in with Webex → consent as `email`. */
  async function signIn(page: Page, email: string) {
    await page.goto(`${team.base}/`);
    await clickToConsent(page, '#signin');
    await consentAs(page, email);
    expect(await page.textContent('header .who')).toContain(email);
  }

  /** Home page → Start with the default scopes → consent as `email`; returns the connection id. */
  async function connect(page: Page, email: string) {
    await page.goto(`${team.base}/`);
    return team.startConnection(page, email);
  }

  /** The broker's answer to `key` for the token of `connection`. */
  const brokerStatus = async (key: string, connection: string) =>
    (
      await fetch(`${team.base}/api/v1/connections/${connection}/token`, {
        headers: { authorization: `Bearer ${key}` },
      })
    ).status;

  it('alice makes a key, copies it, uses it, revokes it; erin never sees it', async () => {
    const { page } = await fresh();
    await signIn(page, 'alice@example.com');
    const connection = await connect(page, 'alice@example.com');

    // The header's Keys link leads to the page; her one connection and `token` are checked by default.
    await Promise.all([page.waitForURL(`${team.base}/keys`), page.click('header a[href="/keys"]')]);
    expect(await page.textContent('main h1')).toBe('API keys');
    expect(await page.isChecked(`input[name="connection"][value="${connection}"]`)).toBe(true);
    expect(await page.isChecked('input[name="permission"][value="token"]')).toBe(true);
    expect(await page.isChecked('input[name="permission"][value="delete"]')).toBe(false);
    await page.fill('#key-name', 'out-of-office bot');
    await screenshot(page, 'keys-01-form');
    await Promise.all([page.waitForLoadState('domcontentloaded'), page.click('#create-key')]);
    await page.waitForSelector('#new-key');

    // The key is on the page once; the copy button puts exactly it on the clipboard.
    const key = (await page.getAttribute('#new-key', 'data-value')) ?? '';
    expect(key).toMatch(/^wak_[A-Za-z0-9_-]{43}$/);
    expect(await page.getAttribute('#copy-key', 'data-copy')).toBe('new-key');
    await page.click('#copy-key');
    await page.waitForSelector('#copy-key.copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    expect(await page.textContent('#curl-line')).toBe(
      `curl -H "Authorization: Bearer ${key}" "${team.base}/api/v1/connections/${connection}/token"`,
    );
    expect(page.url()).not.toContain(key);
    await screenshot(page, 'keys-02-created');

    // It works on the broker.
    expect(await brokerStatus(key, connection)).toBe(200);

    // A reload of /keys lists it without the key, used just now.
    await page.goto(`${team.base}/keys`);
    expect(await page.content()).not.toContain(key);
    const card = page.locator('section.key', { hasText: 'out-of-office bot' });
    expect(await card.count()).toBe(1);
    const keyId = (await card.getAttribute('data-key-id')) ?? '';
    expect(await card.locator('.last-used').textContent()).not.toBe('never');
    expect(await card.locator('.connections').textContent()).toContain('Alice Example');
    await screenshot(page, 'keys-03-list');

    // Erin, another member, sees none of it; her attempt on alice's key is a 404.
    const other = await fresh();
    await signIn(other.page, 'erin@example.com');
    await other.page.goto(`${team.base}/keys`);
    const erinsPage = await other.page.content();
    expect(erinsPage).not.toContain('out-of-office bot');
    expect(erinsPage).not.toContain(keyId);
    expect(erinsPage).not.toContain('Alice Example');
    expect(await other.page.locator('section.key').count()).toBe(0);
    await screenshot(other.page, 'keys-04-erin');

    // Alice revokes it: the page says so, and the broker refuses the key.
    await Promise.all([page.waitForURL(`${team.base}/keys?notice=revoked`), card.locator('button.revoke').click()]);
    expect(await page.textContent('#key-notice')).toContain('revoked');
    expect(await page.locator(`[data-key-id="${keyId}"]`).count()).toBe(0);
    expect(await brokerStatus(key, connection)).toBe(401);
  });
});
