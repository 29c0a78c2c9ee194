/**
 * Team mode in a real browser: one standalone emulator (`dist/cli/main.js emulator`, the team seed) and one
 * `dist/cli/main.js serve` with WEBEX_AUTH_MODE=team, ADMIN_EMAILS=carol@example.com and ALLOWED_EMAIL_DOMAINS=example.com.
 * Each scenario runs in a fresh browser context: a member signs in and connects and sees only her own connections;
 * the admin sees everyone's on the dashboard; a member cannot open another's connection nor the dashboard; a person
 * of a domain that is not allowed is refused; signing out ends the session server-side (a saved cookie replayed later
 * no longer works).
 */
import type { Cookie, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserAvailable, browserRequired, screenshot, useTeamBrowser } from './support.js';

const run = browserAvailable || browserRequired;

describe.runIf(run)('team mode in Chromium', () => {
  const team = useTeamBrowser('webex-auth-team-e2e-');
  const { fresh, clickToConsent, consentAs } = team;
  let aliceConnection = '';
  let carolConnection = '';

  /** The page's access-mode marker. */
  const accessMode = (page: Page) => page.getAttribute('span.access-mode', 'data-mode');

  /** Landing page → Sign in with Webex → consent as `email`; leaves the page wherever the server sent it. */
  async function signIn(page: Page, email: string) {
    await page.goto(`${team.base}/`);
    expect(await accessMode(page)).toBe('team');
    await clickToConsent(page, '#signin');
    await consentAs(page, email);
    await page.waitForLoadState('domcontentloaded');
  }

  /** Signs in as `email` and checks the header now names the person. */
  async function signInOk(page: Page, email: string, name: string) {
    await signIn(page, email);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.textContent('header .who')).toContain(`${name} (${email})`);
    expect(await page.locator('#signout').count()).toBe(1);
    expect(await page.locator('#signin').count()).toBe(0);
  }

  /** Home page → the scope picker with exactly `scopes` → Start → consent as `email`; returns the connection id. */
  async function connect(page: Page, email: string, scopes = ['spark:people_read', 'spark:rooms_read']) {
    await page.goto(`${team.base}/`);
    for (const box of await page.locator('input[name="scope"]').all()) {
      const value = await box.getAttribute('value');
      if (value && scopes.includes(value)) await box.check();
      else if (await box.isVisible()) await box.uncheck();
    }
    return team.startConnection(page, email);
  }

  /** The ids of the connections on the home page's "Your connections" list. */
  async function homeConnections(page: Page): Promise<string[]> {
    await page.goto(`${team.base}/`);
    const hrefs = await page
      .locator('section.card:has(h2:text-is("Your connections")) a')
      .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    return hrefs.map((h) => h.replace(/^\/connections\//, ''));
  }

  it('an anonymous visitor sees the landing page with Sign in with Webex', async () => {
    const { page } = await fresh();
    const response = await page.goto(`${team.base}/`);
    expect(response?.status()).toBe(200);
    expect(await accessMode(page)).toBe('team');
    expect(await page.textContent('#signin')).toBe('Sign in with Webex');
    expect(await page.textContent('main')).toContain('Sign-in is open to @example.com accounts.');
    expect(await page.locator('#start').count()).toBe(0);
    // Any other page sends an anonymous visitor back to the landing page.
    await page.goto(`${team.base}/connections`);
    expect(page.url()).toBe(`${team.base}/?signin=required`);
    expect(await page.textContent('main')).toContain('Sign in to continue');
    // The landing page's form is accepted (a same-origin form POST from Chromium): it leads to the consent page.
    await clickToConsent(page, '#signin');
    expect(await page.textContent('h1')).toBe('Sign in to Webex');
  });

  it('alice (member) signs in, connects, and sees only her own connection on the home page', async () => {
    const { page } = await fresh();
    await signInOk(page, 'alice@example.com', 'Alice Example');
    expect(await page.locator('header a[href="/connections"]').count()).toBe(0); // no Dashboard link for a member
    aliceConnection = await connect(page, 'alice@example.com');
    expect(await page.textContent('#person-name')).toBe('Alice Example');
    expect(await accessMode(page)).toBe('team');
    expect(await homeConnections(page)).toEqual([aliceConnection]);
    expect(await page.textContent('main')).toContain('alice@example.com');
    await screenshot(page, 'team-01-alice-home');
  });

  it('carol (admin) signs in, connects, sees both owners on /connections and opens alice’s connection', async () => {
    expect(aliceConnection).not.toBe('');
    const { page } = await fresh();
    await signInOk(page, 'carol@example.com', 'Carol Admin');
    expect(await page.textContent('header .who')).toContain('· admin');
    carolConnection = await connect(page, 'carol@example.com');
    expect(await page.textContent('#person-name')).toBe('Carol Admin');
    // Her home page lists her own connection only; the dashboard lists everyone's.
    expect(await homeConnections(page)).toEqual([carolConnection]);
    await Promise.all([page.waitForURL(`${team.base}/connections`), page.click('header a[href="/connections"]')]);
    expect(await page.textContent('main h1')).toBe('Connections');
    const ownerOf = async (id: string) => (await page.locator(`#connection-${id} dd.owner`).textContent())?.trim();
    expect(await ownerOf(aliceConnection)).toBe('alice@example.com');
    expect(await ownerOf(carolConnection)).toBe('carol@example.com');
    expect((await page.locator('dd.owner').allTextContents()).map((t) => t.trim()).sort()).toEqual([
      'alice@example.com',
      'carol@example.com',
    ]);
    await screenshot(page, 'team-02-carol-dashboard');
    const response = await page.goto(`${team.base}/connections/${aliceConnection}`);
    expect(response?.status()).toBe(200);
    expect(await page.textContent('#person-name')).toBe('Alice Example');
  });

  it('alice cannot open carol’s connection (404) nor the dashboard (403)', async () => {
    expect(carolConnection).not.toBe('');
    const { page } = await fresh();
    await signInOk(page, 'alice@example.com', 'Alice Example');
    const other = await page.goto(`${team.base}/connections/${carolConnection}`);
    expect(other?.status()).toBe(404);
    expect(await page.textContent('main')).toContain('Connection not found');
    expect(await page.textContent('main')).not.toContain('Carol Admin');
    // The same 404 as an id that does not exist.
    const unknown = await page.goto(`${team.base}/connections/no-such-connection`);
    expect(unknown?.status()).toBe(404);
    const dashboard = await page.goto(`${team.base}/connections`);
    expect(dashboard?.status()).toBe(403);
    expect(await page.textContent('main')).toContain('Admins only');
    expect(await page.textContent('main')).not.toContain('carol@example.com');
    // Her own still opens.
    expect((await page.goto(`${team.base}/connections/${aliceConnection}`))?.status()).toBe(200);
  });

  it('dave (other.example) is refused with a page naming his domain, and is not signed in afterwards', async () => {
    const { context, page } = await fresh();
    let refusal: number | undefined;
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/oauth') refusal = r.status();
    });
    await signIn(page, 'dave@other.example');
    expect(refusal).toBe(403);
    expect(await page.title()).toContain('Sign-in refused');
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain('Sign-in refused');
    expect(text).toContain('other.example');
    expect(text).toContain('example.com');
    expect(await accessMode(page)).toBe('team');
    expect(await page.locator('#signout').count()).toBe(0);
    // No session cookie is left, and the home page is the landing page again.
    expect((await context.cookies(team.base)).filter((c) => c.name.includes('webex_auth_session'))).toEqual([]);
    await page.goto(`${team.base}/`);
    expect(await page.locator('#signin').count()).toBe(1);
    expect(await page.locator('header .who').count()).toBe(0);
    const connections = await page.goto(`${team.base}/connections`);
    expect(page.url()).toBe(`${team.base}/?signin=required`);
    expect(connections?.status()).toBe(200);
  });

  it('sign-out ends the session: the saved cookie, replayed later, no longer reaches alice’s pages', async () => {
    const { context, page } = await fresh();
    await signInOk(page, 'alice@example.com', 'Alice Example');
    const saved: Cookie[] = await context.cookies(team.base);
    expect(saved.map((c) => c.name)).toContain('webex_auth_session');

    // Before sign-out the saved cookie is alice's session in any browser.
    const before = await fresh();
    await before.context.addCookies(saved);
    await before.page.goto(`${team.base}/`);
    expect(await before.page.textContent('header .who')).toContain('Alice Example');
    expect((await before.page.goto(`${team.base}/connections/${aliceConnection}`))?.status()).toBe(200);

    await page.goto(`${team.base}/`);
    await page.click('#signout');
    await page.waitForLoadState('domcontentloaded');
    expect(page.url(), await page.title()).toBe(`${team.base}/?signin=signed-out`);
    expect(await page.textContent('main')).toContain('You are signed out.');
    expect(await page.locator('#signin').count()).toBe(1);

    // After: the same cookie, replayed in a new browser, is nobody.
    const after = await fresh();
    await after.context.addCookies(saved);
    await after.page.goto(`${team.base}/`);
    expect(await after.page.locator('#signin').count()).toBe(1);
    expect(await after.page.locator('header .who').count()).toBe(0);
    expect(await after.page.textContent('body')).not.toContain('Alice Example');
    await after.page.goto(`${team.base}/connections/${aliceConnection}`);
    expect(after.page.url()).toBe(`${team.base}/?signin=required`);
    expect(await after.page.locator('#signin').count()).toBe(1);
    // The other browser that held the same cookie is signed out too: the session ended on the server.
    await before.page.goto(`${team.base}/connections/${aliceConnection}`);
    expect(before.page.url()).toBe(`${team.base}/?signin=required`);
  });
});
