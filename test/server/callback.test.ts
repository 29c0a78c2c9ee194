import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { escapeHtml } from '../../src/server/html.js';
import { generateKeyEntry } from '../../src/vault/crypto/keyring.js';
import { openVault } from '../../src/vault/vault.js';
import { ADMIN_TOKEN, connect, type RunningEmulator, signIn, startTeamEmulator, teamEnv } from '../accounts/support.js';
import { type FakeWebexOptions, fakeWebex } from '../vault/fake-webex.js';
import { Browser, testApp, testAppWithVault, testConfig } from './support/app.js';

const CONFIGURED = { WEBEX_CLIENT_ID: 'C0123456789abcdef', WEBEX_CLIENT_SECRET: 'canary-client-secret-123' };
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** This suite's Webex: a person granting people and rooms, with canary tokens (the log test looks for them). */
const CANARY_WEBEX: FakeWebexOptions = {
  granted: ['spark:people_read', 'spark:rooms_read'],
  accessToken: 'ACCESS_canary_token_value_0123456789',
  refreshToken: 'REFRESH_canary_token_value_0123456789',
};

async function setup(webex: FakeWebexOptions = {}, env: Record<string, string> = {}) {
  const fake = fakeWebex({ ...CANARY_WEBEX, ...webex });
  const t = await testAppWithVault({ ...CONFIGURED, ...env }, { fetch: fake.fetch });
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
  ])('error=%s gets its own page (for a flow this browser started)', async (error, title) => {
    const { browser } = await setup();
    const state = await startFlow(browser);
    const res = await browser.get(`/oauth?error=${encodeURIComponent(error)}&state=${state}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(title);
    expect(res.body).not.toContain('<img src=x');
    // Without this browser's state the same answer gets the fixed mismatch text, whatever it says.
    const planted = await browser.get(`/oauth?error=${encodeURIComponent(error)}&state=whatever`);
    expect(planted.statusCode).toBe(400);
    expect(planted.body).toContain('could not be matched');
    expect(planted.body).not.toContain(title);
  });

  it('invalid_scope names the scope the integration does not register (requested vs WEBEX_SCOPES)', async () => {
    const { browser } = await setup({}, { WEBEX_SCOPES: 'spark:people_read spark:rooms_read' });
    const state = await startFlow(browser, ['spark:people_read', 'spark:messages_read']);
    const res = await browser.get(`/oauth?error=invalid_scope&state=${state}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Scope not allowed');
    expect(res.body).toContain('Webex refused the scope spark:messages_read');
    expect(res.body).not.toContain('refused the scope spark:people_read');
  });

  it('bad, missing or foreign state: a clear page and no code exchange', async () => {
    const { browser, fake, app } = await setup();
    await startFlow(browser);
    const bad = await browser.get('/oauth?code=abc&state=forged');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('Authorization could not be matched');
    // No state at all matches no flow either (and never reaches the code exchange).
    const none = await browser.get('/oauth?code=abc');
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('could not be matched');
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
    // The callback answers with the connection page, naming its own address (Content-Location, a canonical link).
    const res = await browser.get(callback);
    expect(res.statusCode).toBe(200);
    const location = String(res.headers['content-location']);
    expect(location).toMatch(/^\/connections\/[A-Za-z0-9_-]+$/);
    expect(res.body).toContain(`<link rel="canonical" href="${location}">`);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(fake.calls.bodies[0]).toContain('code_verifier=');
    for (const page of [res, await browser.get(location)]) {
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Alice &lt;b&gt;Example&lt;/b&gt;');
      expect(page.body).toContain('expires in 13 days');
      expect(page.body).toContain(escapeHtml('ACCESS••••••••6789'));
      expect(page.body).toContain('Copy as curl');
    }
    // At its own address the page names no other, and shows what the callback's answer showed (read back from the vault).
    const reread = await browser.get(location);
    expect(reread.body).not.toContain('rel="canonical"');
    const shown = (body: string) => [...body.matchAll(/data-value="([^"]*)"/g)].map((m) => m[1]);
    expect(shown(res.body).length).toBeGreaterThanOrEqual(2);
    expect(shown(res.body)).toEqual(shown(reread.body));

    const again = await browser.get(callback);
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('already used');
    expect(again.body).toContain(location);
    expect(fake.calls.token).toBe(1);

    // Local mode: the connection belongs to the local operator, and every browser on this machine is the local
    // operator — a second browser sees it too. (Strangers exist in team mode: see "team mode" below.)
    const sameOperator = new Browser(app);
    const second = await sameOperator.get(location);
    expect(second.statusCode).toBe(200);
    expect(second.headers['set-cookie']).toBeUndefined();
    // An unknown id is the same 404 as ever.
    expect((await sameOperator.get('/connections/conn_doesnotexist')).statusCode).toBe(404);
  });

  it('local mode with ADMIN_TOKEN: connection pages stay the local operator’s; the dashboard needs the token', async () => {
    const adminToken = 'admin-token-0123456789abcdef';
    const { browser, app } = await setup({}, { ADMIN_TOKEN: adminToken });
    const state = await startFlow(browser);
    const location = String((await browser.get(`/oauth?code=c&state=${state}`)).headers['content-location']);
    const other = new Browser(app);
    expect((await other.get(location)).statusCode).toBe(200);
    expect((await other.get(location, { authorization: `Bearer ${adminToken}` })).statusCode).toBe(200);
    expect((await other.get(location, { authorization: 'Bearer wrong-token-0123456789' })).statusCode).toBe(200);
    // The admin dashboard is another matter: it needs the token (test/broker/admin.test.ts checks it in full).
    const id = location.split('/').pop() as string;
    expect((await other.get('/connections', { authorization: `Bearer ${adminToken}` })).body).toContain(id);
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }] as Record<string, string>[]) {
      const refused = await other.get('/connections', headers);
      expect(refused.body).toContain('Admin token required');
      expect(refused.body).not.toContain(id);
    }
  });

  it('works at /webex-auth.html too, and two tabs complete independently', async () => {
    const { browser, fake } = await setup();
    const s1 = await startFlow(browser);
    const s2 = await startFlow(browser, ['spark:people_read']);
    const r2 = await browser.get(`/webex-auth.html?code=c2&state=${s2}`);
    const r1 = await browser.get(`/oauth?code=c1&state=${s1}`);
    expect(r1.statusCode).toBe(200);
    expect(r2.statusCode).toBe(200);
    expect(fake.calls.token).toBe(2);
  });

  it('a browser without a session: each pending authorization a sealed cookie bound to its flow id, at most 5, nothing stored; the flow id made within the per-address limit', async () => {
    const { browser, app, vault } = await setup();
    const firstState = await startFlow(browser);
    expect(firstState).not.toBe('');
    const first = browser.cookies.get('webex_auth_flow');
    // Each start sets the flow cookie again, same id, so that it lives as long as the newest authorization it holds.
    const second = await browser.post('/oauth/start', { scope: 'spark:people_read' });
    expect(String(second.headers['set-cookie'])).toMatch(/^webex_auth_flow=[^;]+;.*Max-Age=900/);
    expect(browser.cookies.get('webex_auth_flow')).toBe(first);
    // The pending authorization: HttpOnly, SameSite=Lax, 15 minutes, named by its state's hash; nothing in clear.
    const pendingCookie = String(second.headers['set-cookie']).match(/webex_auth_pending_[0-9a-f]{16}=[^,]+/)?.[0];
    expect(pendingCookie).toMatch(/; Max-Age=900; Path=\/; HttpOnly; SameSite=Lax$/);
    const secondState = new URL(String(second.headers.location)).searchParams.get('state') ?? '';
    expect(pendingCookie).not.toContain(secondState);
    for (let i = 2; i < 5; i++) expect(await startFlow(browser)).not.toBe('');
    const full = await browser.post('/oauth/start', { scope: 'spark:people_read' });
    expect(full.statusCode).toBe(429);
    expect(full.body).toContain('Too many authorizations in progress');
    // One flow cookie and one cookie per pending authorization; no session, and not a row written.
    const names = [...browser.cookies.keys()];
    expect(names.filter((n) => n === 'webex_auth_flow')).toHaveLength(1);
    expect(names.filter((n) => n.startsWith('webex_auth_pending_'))).toHaveLength(5);
    expect(names).toHaveLength(6);
    const signed = decodeURIComponent(first ?? '');
    const flowId = signed.slice(0, signed.lastIndexOf('.'));
    expect(await vault.sessions.findTaken(flowId, firstState)).toBeUndefined();
    // A cookie that no longer opens (planted, altered, another flow id's) is dropped instead of counted.
    const stale = names.filter((n) => n.startsWith('webex_auth_pending_')).at(-1);
    browser.cookies.set(stale as string, 'v1%3Ajunk');
    const room = await browser.post('/oauth/start', { scope: 'spark:people_read' });
    expect(room.statusCode).toBe(303);
    expect(browser.cookies.has(stale as string)).toBe(false);
    // Answering one frees its place: the callback drops its cookie, whatever the outcome.
    const answered = await browser.get(`/oauth?code=c1&state=${firstState}`);
    expect(answered.statusCode).toBe(200);
    expect(await vault.sessions.findTaken(flowId, firstState)).toBeDefined();
    expect([...browser.cookies.keys()].filter((n) => n.startsWith('webex_auth_pending_'))).toHaveLength(4);
    // New browsers from one address: each new flow id is spent from the address's budget, as a new session is.
    let limited = 0;
    for (let i = 0; i < 40; i++) {
      const b = new Browser(app);
      await b.get('/');
      const res = await b.post('/oauth/start', { scope: 'spark:people_read' });
      if (res.statusCode === 429) {
        limited++;
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
      } else expect(res.statusCode).toBe(303);
    }
    expect(limited).toBeGreaterThan(0);
  });

  it('a callback replayed with its pending cookie kept (a copy, a second tab at once) exchanges the code once: the store refuses the second take', async () => {
    const { browser, app, fake } = await setup();
    const state = await startFlow(browser);
    const callback = `/oauth?code=c1&state=${state}`;
    const twin = new Browser(app);
    for (const [k, v] of browser.cookies) twin.cookies.set(k, v);
    const kept = new Map(browser.cookies);
    // Both at once: one exchange, the other is told the answer was used.
    const answers = await Promise.all([browser.get(callback), twin.get(callback)]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(answers.find((r) => r.statusCode === 409)?.body).toContain('already used');
    expect(fake.calls.token).toBe(1);
    // Again later with the very same cookies (the callback dropped the pending cookie; a copy of it does not help).
    const again = new Browser(app);
    for (const [k, v] of kept) again.cookies.set(k, v);
    const replay = await again.get(callback);
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toMatch(/href="\/connections\/[^"]+"/);
    expect(fake.calls.token).toBe(1);
  });

  it('a sign-out ends the flows this browser started: its flow and pending cookies are cleared', async () => {
    const { browser, fake } = await setup();
    const state = await startFlow(browser);
    const pending = [...browser.cookies.keys()].filter((n) => n.startsWith('webex_auth_pending_'));
    expect(pending).toHaveLength(1);
    const out = await browser.post('/signout', {});
    expect(out.statusCode).toBe(303);
    expect([...browser.cookies.keys()].filter((n) => n.startsWith('webex_auth_'))).toEqual([]);
    expect((await browser.get(`/oauth?code=c1&state=${state}`)).statusCode).toBe(400);
    expect(fake.calls.token).toBe(0);
  });

  it('pending cookies are bounded by their total size too, and a name that is not ours is neither counted nor touched', async () => {
    const { browser } = await setup();
    // Two big ones (every scope of the catalog) and a foreign cookie with the prefix.
    const all = (await import('../../src/scopes/catalog.js')).SCOPES.map((x: { name: string }) => x.name);
    browser.cookies.set('webex_auth_pending_not-a-key', 'x');
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) sizes.push((await browser.post('/oauth/start', { scope: all })).statusCode);
    // Each holds about 2.5 KB once URI-encoded: three fit in 8 KB, the fourth does not.
    expect(sizes.slice(0, 3)).toEqual([303, 303, 303]);
    expect(sizes.slice(3)).toEqual([429, 429]);
    expect(browser.cookies.get('webex_auth_pending_not-a-key')).toBe('x');
    const header = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    expect(header.length).toBeLessThan(12_000);
  });

  it('a stored grant whose page facts cannot be read ends with a redirect to its page, not an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webex-auth-facts-'));
    const env = { ...CONFIGURED, WEBEX_AUTH_DB: join(dir, 'webex-auth.db'), WEBEX_AUTH_KEYS: generateKeyEntry('k1') };
    const vault = await openVault(testConfig(env));
    // The store fails the live-token count (the first of the page's facts) until told otherwise.
    let failing = true;
    const tokenCap = vault.connections.tokenCap.bind(vault.connections);
    vault.connections.tokenCap = async (id, personId) => {
      if (failing) throw new Error('database is locked');
      return tokenCap(id, personId);
    };
    const fake = fakeWebex(CANARY_WEBEX);
    const t = await testApp(env, { fetch: fake.fetch, vault });
    close = async () => {
      await t.app.close();
      await vault.close();
      rmSync(dir, { recursive: true, force: true });
    };
    const browser = new Browser(t.app);
    await browser.get('/');
    const state = await startFlow(browser);
    const res = await browser.get(`/oauth?code=c&state=${state}`);
    expect(res.statusCode).toBe(303);
    const location = String(res.headers.location);
    expect(location).toMatch(/^\/connections\/[A-Za-z0-9_-]+$/);
    expect(await vault.connections.get(location.split('/').pop() as string)).toMatchObject({ status: 'active' });
    failing = false;
    const page = await browser.get(location);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Alice &lt;b&gt;Example&lt;/b&gt;');
  });

  it('Try it: a 403 is explained with the scope that fixes it', async () => {
    const { browser } = await setup({ granted: ['spark:rooms_read'] });
    const state = await startFlow(browser, ['spark:rooms_read']);
    const location = String((await browser.get(`/oauth?code=c&state=${state}`)).headers['content-location']);
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
    const location = String((await browser.get(`/oauth?code=c&state=${state}`)).headers['content-location']);
    await browser.get(location);
    expect((await browser.post(`${location}/delete`, {})).statusCode).toBe(303);
    expect(await vault.connections.list()).toEqual([]);
    expect((await browser.get(location)).statusCode).toBe(404);
  });
});

describe('team mode: a connection is visible to its owner and admins only', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startTeamEmulator();
  });
  afterAll(async () => {
    await emulator?.close();
  });

  /** A team server on the emulator with alice's connection; returns it, its page and its tokens. */
  async function aliceConnected() {
    const t = await testAppWithVault({ ...teamEnv(emulator), ADMIN_TOKEN });
    close = () => t.app.close();
    const alice = new Browser(t.app);
    expect((await signIn(alice, 'alice@example.com')).statusCode).toBe(303);
    const id = await connect(alice, 'alice@example.com');
    const location = `/connections/${id}`;
    const tokens = await t.vault.connections.revealTokens(id);
    expect(tokens?.accessToken.length).toBeGreaterThan(20);
    const own = await alice.get(location);
    expect(own.statusCode).toBe(200);
    expect(own.body).toContain(tokens?.accessToken);
    return { ...t, alice, id, location, tokens: tokens as NonNullable<typeof tokens> };
  }

  it('another signed-in account gets the 404 of an unknown id, on the page and on every action; nothing changes', async () => {
    const { app, vault, alice, id, location, tokens } = await aliceConnected();
    const erin = new Browser(app);
    expect((await signIn(erin, 'erin@example.com')).statusCode).toBe(303);
    const home = await erin.get('/');
    expect(home.statusCode).toBe(200);
    expect(home.body).not.toContain(id);
    const unknown = await erin.get('/connections/conn_doesnotexist');
    expect(unknown.statusCode).toBe(404);
    for (const url of [location, `${location}?token=1`]) {
      const seen = await erin.get(url);
      expect(seen.statusCode, url).toBe(404);
      expect(seen.body, url).toContain('Connection not found');
      expect(seen.body, url).not.toContain(tokens.accessToken);
      expect(seen.body, url).not.toContain(tokens.refreshToken);
    }
    // Her forms carry her own valid CSRF token: the refusal is the owner check, not CSRF.
    await erin.get('/');
    for (const action of ['refresh', 'try', 'delete']) {
      const res = await erin.post(`${location}/${action}`, { endpoint: 'people-me' });
      expect(res.statusCode, action).toBe(404);
      expect(res.body, action).not.toContain(tokens.accessToken);
    }
    expect(await vault.connections.get(id)).toBeDefined();
    expect(await vault.connections.revealTokens(id)).toEqual(tokens);
    expect((await alice.get(location)).statusCode).toBe(200);
  });

  it('an anonymous visitor is sent to sign in; the admin token and an ADMIN_EMAILS account may open it, a wrong token may not', async () => {
    const { app, location, tokens } = await aliceConnected();
    const anonymous = new Browser(app);
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789abcdef0123' }] as Record<
      string,
      string
    >[]) {
      const res = await anonymous.get(location, headers);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/?signin=required');
      expect(res.body).not.toContain(tokens.accessToken);
    }
    const erin = new Browser(app);
    await signIn(erin, 'erin@example.com');
    const wrong = await erin.get(location, { authorization: 'Bearer wrong-token-0123456789abcdef0123' });
    expect(wrong.statusCode).toBe(404);
    expect(wrong.body).not.toContain(tokens.accessToken);

    const script = new Browser(app);
    const admin = await script.get(location, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(admin.statusCode).toBe(200);
    expect(admin.body).toContain(tokens.accessToken);
    const carol = new Browser(app);
    await signIn(carol, 'carol@example.com');
    expect((await carol.get(location)).statusCode).toBe(200);
  });
});

describe('secrets stay out of logs', () => {
  it('no client secret, code, access or refresh token in any log line of a whole flow', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'trace', destination: { write: (line: string) => lines.push(line) } });
    const fake = fakeWebex(CANARY_WEBEX);
    const t = await testApp({ ...CONFIGURED, LOG_LEVEL: 'trace' }, { fetch: fake.fetch, logger });
    close = () => t.app.close();
    const b = new Browser(t.app);
    await b.get('/');
    const state = await startFlow(b);
    const location = String((await b.get(`/oauth?code=canary-code-value&state=${state}`)).headers['content-location']);
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
