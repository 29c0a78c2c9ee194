/** The admin dashboard `/connections` and the broker as registered by the server's buildApp. */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
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

  it('refreshes and deletes from the dashboard with the session’s CSRF token only', async () => {
    const a = await app();
    const page = await a.inject({ method: 'GET', url: '/connections' });
    const cookie = String(page.headers['set-cookie']).split(';')[0] as string;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] as string;
    const post = (url: string, body: string) =>
      a.inject({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: body,
      });
    expect((await post(`/admin/connections/${id}/refresh`, '_csrf=forged')).statusCode).toBe(403);
    const ok = await post(`/admin/connections/${id}/refresh`, `_csrf=${encodeURIComponent(csrf)}`);
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/connections?notice=refreshed');
    expect(webex.tokenCalls).toHaveLength(1);
    const after = await a.inject({ method: 'GET', url: '/connections?notice=refreshed', headers: { cookie } });
    expect(after.body).toContain('Refreshed: a new access token is stored.');
  });

  it('needs ADMIN_TOKEN when not on loopback (Bearer or Basic)', async () => {
    const a = await app({ HOST: '0.0.0.0', ADMIN_TOKEN: ADMIN });
    const denied = await a.inject({ method: 'GET', url: '/connections' });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['www-authenticate']).toContain('Basic');
    const basic = Buffer.from(`admin:${ADMIN}`).toString('base64');
    expect(
      (await a.inject({ method: 'GET', url: '/connections', headers: { authorization: `Basic ${basic}` } })).statusCode,
    ).toBe(200);
    expect(
      (await a.inject({ method: 'GET', url: '/connections', headers: { authorization: `Bearer ${ADMIN}` } }))
        .statusCode,
    ).toBe(200);
    const wrong = Buffer.from('admin:nope').toString('base64');
    expect(
      (await a.inject({ method: 'GET', url: '/connections', headers: { authorization: `Basic ${wrong}` } })).statusCode,
    ).toBe(401);
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
