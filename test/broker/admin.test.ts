/**
 * The admin dashboard `/connections` and the broker as registered by the server's buildApp. Who is admin (SECURITY.md
 * "Modes and what each protects"): in local mode the local operator, unless ADMIN_TOKEN is set — then only after
 * entering it once (form POST /admin/unlock); in team mode an ADMIN_EMAILS account; in both, a script sending
 * `Authorization: Bearer $ADMIN_TOKEN`. No rule depends on the client's address, and HTTP Basic is no login.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { Browser } from '../server/support/app.js';
import { fakeWebex } from '../vault/fake-webex.js';
import { TEST_KEY, tempDir, testConfig, tokenSet } from '../vault/helpers.js';

const ADMIN = 'admin-token-0123456789abcdef';

describe('admin dashboard', () => {
  let vault: VaultInternals;
  let webex: ReturnType<typeof fakeWebex>;
  let cleanup: () => void;
  let id: string;
  const apps: FastifyInstance[] = [];
  const env = (extra: Record<string, string>) => ({
    WEBEX_CLIENT_ID: 'C1',
    WEBEX_CLIENT_SECRET: 'CLIENT-SECRET-CANARY',
    WEBEX_API_BASE: 'https://webex.test/v1',
    LOG_LEVEL: 'silent',
    ...extra,
  });

  beforeAll(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    webex = fakeWebex();
    vault = await openVault(testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY }), {
      fetch: webex.fetch,
    });
    const integ = await vault.integrations.upsert({
      clientId: 'C1',
      clientSecret: 'CLIENT-SECRET-CANARY',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      apiBase: 'https://webex.test/v1',
    });
    const now = Date.now();
    id = (
      await vault.connections.saveFromGrant({
        integrationId: integ.id,
        tokens: tokenSet({ accessToken: 'ACCESS-CANARY', refreshToken: 'REFRESH-CANARY' }, now),
        person: { id: 'p1', emails: ['alice@example.com'], displayName: 'Alice <Example>' },
        requestedScopes: ['spark:all'],
      })
    ).id;
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await vault.close();
    cleanup();
  });

  async function app(extra: Record<string, string> = {}) {
    const a = await buildApp(testConfig(env(extra)), { vault, fetch: webex.fetch });
    apps.push(a);
    return a;
  }

  it('lists every connection with an SVG timeline and no token material, escaping names', async () => {
    const a = await app();
    const res = await a.inject({ method: 'GET', url: '/connections' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Alice &lt;Example&gt;');
    expect(res.body).toContain('<svg class="timeline"');
    expect(res.body).toContain('alice@example.com');
    expect(res.body).not.toMatch(/ACCESS-CANARY|REFRESH-CANARY|CLIENT-SECRET-CANARY/);
  });

  it('refreshes from the dashboard with a current token of this browser only; cross-site posts are refused', async () => {
    const a = await app();
    // Local mode without ADMIN_TOKEN: the local operator is admin, and a GET makes no session.
    const page = await a.inject({ method: 'GET', url: '/connections' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['set-cookie']).toBeUndefined();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] as string;
    expect(csrf).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]+$/);
    // A token bound to another browser's session (one was made when that browser brought its own integration).
    const other = new Browser(a);
    await other.get('/');
    const brought = await other.post('/configure', {
      clientId: `C${'b'.repeat(63)}`,
      clientSecret: 's'.repeat(64),
      redirectUri: 'http://localhost:8080/oauth',
      scopes: 'spark:people_read',
    });
    expect(brought.statusCode, brought.body.slice(0, 300)).toBe(303);
    expect([...other.cookies.keys()]).toEqual(['webex_auth_session']);
    await other.get('/connections');
    expect(other.csrf).not.toBe('');
    const post = (url: string, body: string, headers: Record<string, string> = {}) =>
      a.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: body,
      });
    const valid = `_csrf=${encodeURIComponent(csrf)}`;
    for (const [why, body, headers] of [
      ['forged token', '_csrf=forged', {}],
      ['no token', '', {}],
      ['tampered token', `_csrf=${encodeURIComponent(`${csrf}x`)}`, {}],
      ['another session’s token', `_csrf=${encodeURIComponent(other.csrf)}`, {}],
      ['cross-site (Fetch Metadata)', valid, { 'sec-fetch-site': 'cross-site' }],
      ['same-site sibling (Fetch Metadata)', valid, { 'sec-fetch-site': 'same-site' }],
      ['foreign Origin', valid, { origin: 'https://evil.example' }],
    ] as const) {
      const res = await post(`/admin/connections/${id}/refresh`, body, headers);
      expect(res.statusCode, why).toBe(403);
      expect(res.body, why).toContain('Form expired');
    }
    expect(webex.tokenCalls).toHaveLength(0);
    const ok = await post(`/admin/connections/${id}/refresh`, valid, { 'sec-fetch-site': 'same-origin' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/connections?notice=refreshed');
    expect(webex.tokenCalls).toHaveLength(1);
    const after = await a.inject({ method: 'GET', url: '/connections?notice=refreshed' });
    expect(after.body).toContain('Refreshed: a new access token is stored.');
  });

  it('local mode with ADMIN_TOKEN: the dashboard asks for the token once (POST /admin/unlock); Basic is no login', async () => {
    const a = await app({ ADMIN_TOKEN: ADMIN });
    const b = new Browser(a);
    // This browser already has cookies (a flow started: its flow id and pending authorization): the unlock must not
    // stay with them.
    await b.get('/');
    await b.post('/oauth/start', { scope: 'spark:all' });
    const before = new Map(b.cookies);
    expect(before.size).toBe(2);

    const basic = Buffer.from(`admin:${ADMIN}`).toString('base64');
    for (const [why, headers] of [
      ['no token', {}],
      ['HTTP Basic with the right token', { authorization: `Basic ${basic}` }],
      ['a wrong Bearer token', { authorization: 'Bearer wrong-token-0123456789abcdef' }],
    ] as const) {
      const denied = await b.get('/connections', headers);
      expect(denied.body, why).toContain('Admin token required');
      expect(denied.body, why).toContain('action="/admin/unlock"');
      expect(denied.body, why).not.toContain('Alice');
      expect(denied.body, why).not.toContain(id);
      expect(denied.headers['www-authenticate'], why).toBeUndefined();
      expect.soft(denied.statusCode, `${why}: status`).toBe(401);
    }
    // Admin actions are refused the same way, even with a valid CSRF token; nothing is refreshed.
    const calls = webex.tokenCalls.length;
    const action = await b.post(`/admin/connections/${id}/refresh`, {});
    expect(action.body).toContain('Admin token required');
    expect(action.headers.location).toBeUndefined();
    expect.soft(action.statusCode, 'admin action: status').toBe(401);
    expect(webex.tokenCalls).toHaveLength(calls);
    // A script with the token as a Bearer header is admin, without a session.
    const script = await a.inject({
      method: 'GET',
      url: '/connections',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(script.statusCode).toBe(200);
    expect(script.body).toContain('Alice &lt;Example&gt;');

    // A wrong token at the form: refused, still locked.
    await b.get('/connections');
    const wrong = await b.post('/admin/unlock', { token: 'not-the-admin-token', next: '/connections' });
    expect(wrong.body).toContain('That is not the admin token.');
    expect(wrong.headers.location).toBeUndefined();
    expect.soft(wrong.statusCode, 'wrong token at /admin/unlock: status').toBe(401);
    expect((await b.get('/connections')).body).toContain('Admin token required');
    // The right one: back to the page asked for, under a new session id.
    await b.get('/connections');
    const unlocked = await b.post('/admin/unlock', { token: ADMIN, next: '/connections' });
    expect(unlocked.statusCode).toBe(303);
    expect(unlocked.headers.location).toBe('/connections');
    expect([...b.cookies.values()]).not.toEqual([...before.values()]);
    const dashboard = await b.get('/connections');
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain('Alice &lt;Example&gt;');
    // The id the browser had before unlocking is not admin, and neither is any other browser.
    const planted = new Browser(a);
    for (const [k, v] of before) planted.cookies.set(k, v);
    expect((await planted.get('/connections')).body).toContain('Admin token required');
    expect((await new Browser(a).get('/connections')).body).toContain('Admin token required');
    // Once unlocked, a form token issued to a browser without a session no longer counts for this one.
    const anonymous = await a.inject({ method: 'GET', url: '/' });
    const anonymousToken = /name="_csrf" value="([^"]+)"/.exec(anonymous.body)?.[1] as string;
    expect(anonymousToken).toBeTruthy();
    b.csrf = anonymousToken;
    const forged = await b.post('/admin/connections/conn_nope/delete', {});
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('Form expired');
  });

  it('team mode (a non-loopback HOST): only the admin token or an ADMIN_EMAILS account; Basic and a wrong token are no login', async () => {
    const a = await app({ HOST: '0.0.0.0', ADMIN_TOKEN: ADMIN });
    const basic = Buffer.from(`admin:${ADMIN}`).toString('base64');
    const wrongBasic = Buffer.from('admin:nope').toString('base64');
    for (const [why, headers] of [
      ['no credentials', {}],
      ['HTTP Basic with the right token', { authorization: `Basic ${basic}` }],
      ['HTTP Basic with a wrong token', { authorization: `Basic ${wrongBasic}` }],
      ['a wrong Bearer token', { authorization: 'Bearer wrong-token-0123456789abcdef' }],
    ] as const) {
      const denied = await a.inject({ method: 'GET', url: '/connections', headers });
      expect(denied.statusCode, why).toBe(303);
      expect(denied.headers.location, why).toBe('/?signin=required');
      expect(denied.body, why).not.toContain('Alice');
      // An admin action without sign-in: refused before CSRF is even looked at; nothing is deleted.
      const action = await a.inject({
        method: 'POST',
        url: `/admin/connections/${id}/delete`,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      });
      expect(action.statusCode, why).toBe(401);
      expect(await vault.connections.get(id), why).toBeDefined();
    }
    const bearer = await a.inject({
      method: 'GET',
      url: '/connections',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(bearer.statusCode).toBe(200);
    expect(bearer.body).toContain('Alice &lt;Example&gt;');
    // A script is no browser: with the admin token, an action needs no CSRF token.
    const scripted = await a.inject({
      method: 'POST',
      url: '/admin/connections/conn_nope/delete',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(scripted.statusCode).toBe(303);
    expect(scripted.headers.location).toBe('/connections?notice=missing');
  });

  it('serves the broker through buildApp', async () => {
    const a = await app();
    const { key } = await vault.apiKeys.create({ name: 'bot', connectionIds: [id] });
    const res = await a.inject({
      method: 'GET',
      url: `/api/v1/connections/${id}/token`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().access_token).toBe('ACCESS-1');
    const bad = await a.inject({
      method: 'GET',
      url: `/api/v1/connections/${id}/token?min_validity=x`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect((await a.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'webex_auth_connections{status="active"} 1',
    );
  });
});
