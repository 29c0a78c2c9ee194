import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { Browser, testApp } from './support/app.js';
import { type FakeWebexOptions, fakeWebex } from './support/fake-webex.js';

const CONFIGURED = { WEBEX_CLIENT_ID: 'C0123456789abcdef', WEBEX_CLIENT_SECRET: 'canary-client-secret-123' };
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function setup(webex: FakeWebexOptions = {}, env: Record<string, string> = {}) {
  const fake = fakeWebex(webex);
  const t = await testApp({ ...CONFIGURED, ...env }, { fetch: fake.fetch });
  close = () => t.app.close();
  const browser = new Browser(t.app);
  await browser.get('/');
  return { ...t, fake, browser };
}

async function startFlow(b: Browser, scopes = ['spark:people_read', 'spark:rooms_read']) {
  const res = await b.post('/oauth/start', { scope: scopes });
  return new URL(String(res.headers.location)).searchParams.get('state') ?? '';
}

describe('callback error pages', () => {
  it('decline: explains access_denied, escapes a hostile error_description, offers Try again', async () => {
    const { browser } = await setup();
    const state = await startFlow(browser);
    const res = await browser.get(
      `/oauth?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=${state}`,
    );
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Authorization declined');
    expect(res.body).toContain('Try again');
    expect(res.body).not.toContain('<script>alert');
    expect(res.body).toContain('access_denied');
  });

  it.each([
    ['invalid_scope', 'Scope not allowed'],
    ['server_error', 'Webex failed'],
    ['login_required', 'Sign-in needed'],
    ['<img src=x onerror=alert(1)>', 'Webex refused the request'],
  ])('error=%s gets its own page', async (error, title) => {
    const { browser } = await setup();
    const res = await browser.get(`/oauth?error=${encodeURIComponent(error)}&state=whatever`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(title);
    expect(res.body).not.toContain('<img src=x');
  });

  it('bad, missing or foreign state: a clear page and no code exchange', async () => {
    const { browser, fake, app } = await setup();
    await startFlow(browser);
    const bad = await browser.get('/oauth?code=abc&state=forged');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Authorization could not be matched');
    const none = await browser.get('/oauth?code=abc');
    expect(none.body).toContain('Malformed authorization answer');
    // A state started in another browser is not accepted here.
    const other = new Browser(app);
    await other.get('/');
    const state = await startFlow(other);
    expect((await browser.get(`/oauth?code=abc&state=${state}`)).body).toContain('could not be matched');
    expect(fake.calls.token).toBe(0);
  });

  it('huge and repeated parameters get a 4xx page, never a 500', async () => {
    const { browser } = await setup();
    const huge = await browser.get(`/oauth?code=${'a'.repeat(10_000)}&state=${'b'.repeat(10_000)}`);
    expect(huge.statusCode).toBe(414);
    expect(huge.body).toContain('too long');
    const state = await startFlow(browser);
    const repeated = await browser.get(`/oauth?code=a&code=b&state=${state}`);
    expect(repeated.statusCode).toBe(400);
    expect(repeated.body).toContain('repeats');
    const longPath = await browser.get(`/${'x'.repeat(5000)}?state=1`);
    expect(longPath.statusCode).toBeLessThan(500);
  });

  it('a code Webex rejects gets a page, with Webex markup stripped', async () => {
    const { browser } = await setup({ tokenError: 'invalid_grant' });
    const state = await startFlow(browser);
    const res = await browser.get(`/oauth?code=abc&state=${state}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Authorization no longer valid');
    expect(res.body).not.toContain('<b>bad</b>');
  });
});

describe('a completed flow', () => {
  it('stores the connection, shows the person, and never exchanges a reused callback URL twice', async () => {
    const { browser, fake, app } = await setup();
    const state = await startFlow(browser);
    const callback = `/oauth?code=the-code&state=${state}`;
    const res = await browser.get(callback);
    expect(res.statusCode).toBe(303);
    const location = String(res.headers.location);
    expect(location).toMatch(/^\/connections\/[A-Za-z0-9_-]+$/);
    expect(fake.calls.bodies[0]).toContain('code_verifier=');
    const page = await browser.get(location);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Alice &lt;b&gt;Example&lt;/b&gt;');
    expect(page.body).toContain('expires in 13 days');
    expect(page.body).toContain('ACCESS••••••••6789');
    expect(page.body).toContain('Copy as curl');

    const again = await browser.get(callback);
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('already used');
    expect(again.body).toContain(location);
    expect(fake.calls.token).toBe(1);

    // Another browser does not see the connection.
    const stranger = new Browser(app);
    expect((await stranger.get(location)).statusCode).toBe(404);
    expect((await stranger.get(location)).body).not.toContain('ACCESS_canary');
  });

  it('an admin (Authorization: Bearer ADMIN_TOKEN) may open any connection; a wrong token may not', async () => {
    const adminToken = 'admin-token-0123456789abcdef';
    const { browser, app } = await setup({}, { ADMIN_TOKEN: adminToken });
    const state = await startFlow(browser);
    const location = String((await browser.get(`/oauth?code=c&state=${state}`)).headers.location);
    const admin = new Browser(app);
    expect((await admin.get(location, { authorization: `Bearer ${adminToken}` })).statusCode).toBe(200);
    expect((await admin.get(location, { authorization: 'Bearer wrong-token-0123456789' })).statusCode).toBe(404);
  });

  it('works at /webex-auth.html too, and two tabs complete independently', async () => {
    const { browser, fake } = await setup();
    const s1 = await startFlow(browser);
    const s2 = await startFlow(browser, ['spark:people_read']);
    const r2 = await browser.get(`/webex-auth.html?code=c2&state=${s2}`);
    const r1 = await browser.get(`/oauth?code=c1&state=${s1}`);
    expect(r1.statusCode).toBe(303);
    expect(r2.statusCode).toBe(303);
    expect(fake.calls.token).toBe(2);
  });

  it('Try it: a 403 is explained with the scope that fixes it', async () => {
    const { browser } = await setup({ granted: ['spark:rooms_read'] });
    const state = await startFlow(browser, ['spark:rooms_read']);
    const location = String((await browser.get(`/oauth?code=c&state=${state}`)).headers.location);
    await browser.get(location);
    const tried = await browser.post(`${location}/try`, { endpoint: 'people-me' });
    expect(tried.statusCode).toBe(303);
    const page = await browser.get(location);
    expect(page.body).toContain('HTTP 403');
    expect(page.body).toContain('Missing scope');
    expect(page.body).toContain('Authorize again with spark:people_read');
    const rooms = await browser.post(`${location}/try`, { endpoint: 'rooms' });
    expect(rooms.statusCode).toBe(303);
    expect((await browser.get(location)).body).toContain('HTTP 200');
    expect((await browser.post(`${location}/try`, { endpoint: '../admin' })).statusCode).toBe(400);
  });

  it('Delete removes the connection', async () => {
    const { browser, vault } = await setup();
    const state = await startFlow(browser);
    const location = String((await browser.get(`/oauth?code=c&state=${state}`)).headers.location);
    await browser.get(location);
    expect((await browser.post(`${location}/delete`, {})).statusCode).toBe(303);
    expect(await vault.connections.list()).toEqual([]);
    expect((await browser.get(location)).statusCode).toBe(404);
  });
});

describe('secrets stay out of logs', () => {
  it('no client secret, code, access or refresh token in any log line of a whole flow', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'trace', destination: { write: (line: string) => lines.push(line) } });
    const fake = fakeWebex();
    const t = await testApp({ ...CONFIGURED, LOG_LEVEL: 'trace' }, { fetch: fake.fetch, logger });
    close = () => t.app.close();
    const b = new Browser(t.app);
    await b.get('/');
    const state = await startFlow(b);
    const location = String((await b.get(`/oauth?code=canary-code-value&state=${state}`)).headers.location);
    await b.get(location);
    await b.post(`${location}/try`, { endpoint: 'people-me' });
    await b.get(`/oauth?code=canary-code-value&state=${state}`);
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const canary of ['canary-client-secret-123', 'canary-code-value', 'ACCESS_canary', 'REFRESH_canary', state]) {
      expect(all).not.toContain(canary);
    }
  });
});
