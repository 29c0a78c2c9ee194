/** The broker API through app.inject, over a real SQLite vault and a hand-made token endpoint. */

import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionPlugin } from '../../src/server/plugins/session.js';
import { brokerRoutes, metricsRoutes } from '../../src/server/routes/api/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import type { KeyPermission } from '../../src/vault/types.js';
import { fakeWebex } from '../vault/fake-webex.js';
import { TEST_KEY, tempDir, testConfig, tokenSet } from '../vault/helpers.js';

const DAY = 86_400_000;
/** The admin token a Prometheus scraper sends to `/metrics`. */
const ADMIN_TOKEN = 'metrics-admin-token-0123456789abcdef';

describe('broker API', () => {
  let app: FastifyInstance;
  let vault: VaultInternals;
  let webex: ReturnType<typeof fakeWebex>;
  let cleanup: () => void;
  let now = Date.now();
  let alice: string;
  let bob: string;
  let key: string;
  let bobKey: string;

  beforeAll(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    webex = fakeWebex();
    // Forced refreshes unlimited here: these tests force several in a row (test/broker/forced-refresh.test.ts covers the limit).
    const config = testConfig({
      WEBEX_AUTH_DB: join(t.dir, 'v.db'),
      WEBEX_AUTH_KEYS: TEST_KEY,
      ADMIN_TOKEN,
      FORCED_REFRESH_MIN_INTERVAL: '0',
    });
    vault = await openVault(config, { fetch: webex.fetch, clock: () => now, retryBaseDelayMs: 1 });
    const integ = await vault.integrations.upsert({
      clientId: 'C1',
      clientSecret: 'CLIENT-SECRET-CANARY',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      apiBase: 'https://webex.test/v1',
    });
    const save = (id: string, email: string) =>
      vault.connections.saveFromGrant({
        integrationId: integ.id,
        tokens: tokenSet(
          { accessToken: `ACCESS-${id}`, refreshToken: `REFRESH-CANARY-${id}`, expiresAt: now + 3_600_000 },
          now,
        ),
        person: { id, emails: [email], displayName: id },
        requestedScopes: ['spark:all'],
      });
    alice = (await save('alice', 'alice@example.com')).id;
    bob = (await save('bob', 'bob@example.com')).id;
    const permissions: KeyPermission[] = ['token', 'refresh', 'delete'];
    key = (await vault.apiKeys.create({ name: 'alice-bot', connectionIds: [alice], permissions })).key;
    bobKey = (await vault.apiKeys.create({ name: 'bob-bot', connectionIds: [bob], permissions })).key;
    app = Fastify();
    await app.register(brokerRoutes, { vault, config, rateLimit: { burst: 1000, perSecond: 1000 } });
    // `/metrics` is admin-only through the server's one access check, which the session plugin runs (the broker API,
    // registered before it, authenticates API keys itself), as buildApp registers them.
    await app.register(sessionPlugin, {
      config,
      sessions: vault.sessions,
      cookieKeys: vault.deriveKeys('session cookie'),
      csrfKeys: vault.deriveKeys('csrf'),
    });
    await app.register(metricsRoutes, { vault });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await vault.close();
    cleanup();
  });

  const get = (url: string, k: string | null = key) =>
    app.inject({ method: 'GET', url, headers: k ? { authorization: `Bearer ${k}` } : {} });

  it('requires an API key, as problem+json', async () => {
    for (const k of [null, 'wak_nope', `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`]) {
      const res = await get('/api/v1/connections', k);
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(res.json()).toMatchObject({ status: 401, code: 'unauthorized' });
    }
  });

  it('takes the key from the Authorization header in any case and spacing, and nothing else of its length', async () => {
    const token = `/api/v1/connections/${alice}/token`;
    const as = (authorization: string) => app.inject({ method: 'GET', url: token, headers: { authorization } });
    // Twice each: the first use may verify through the store, the second is answered from the verified-key cache.
    for (const header of [`Bearer ${key}`, `bearer ${key}`, `BEARER  ${key}`, `Bearer\t${key}`]) {
      for (let i = 0; i < 2; i++) expect((await as(header)).statusCode, header).toBe(200);
    }
    // `Bearer ` and 47 characters that are not the key (a space inside, a near miss, another prefix): 401.
    for (const header of [
      `Bearer ${key.slice(0, 20)} ${key.slice(21)}`,
      `Bearer ${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`,
      `Bearer WAK_${key.slice(4)}`,
      `Bearer: ${key.slice(1)}`,
    ]) {
      expect(header).toHaveLength(`Bearer ${key}`.length);
      const res = await as(header);
      expect(res.statusCode, header).toBe(401);
      expect(res.json().code).toBe('unauthorized');
    }
  });

  it('lists only the connections of the key, without token material', async () => {
    const res = await get('/api/v1/connections');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.connections.map((c: { id: string }) => c.id)).toEqual([alice]);
    expect(body.connections[0].person.email).toBe('alice@example.com');
    expect(res.body).not.toMatch(/ACCESS-|REFRESH-/);
  });

  it('hands out the token, scoped per connection', async () => {
    const res = await get(`/api/v1/connections/${alice}/token`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toMatchObject({ access_token: 'ACCESS-alice', token_type: 'Bearer', scopes: ['spark:all'] });
    expect(res.json().person.email).toBe('alice@example.com');
    expect(webex.tokenCalls).toHaveLength(0);
    const other = await get(`/api/v1/connections/${bob}/token`);
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe('forbidden');
  });

  it('refreshes first when the token has less than min_validity left', async () => {
    // A 1 h token 40 min old has 20 min left: asked for 30 min, it is refreshed first.
    now += 40 * 60_000;
    const res = await get(`/api/v1/connections/${alice}/token?min_validity=1800`);
    now -= 40 * 60_000;
    expect(res.statusCode).toBe(200);
    expect(res.json().access_token).toBe('ACCESS-1');
    expect(res.json().min_validity_met).toBe(true);
    expect(webex.tokenCalls).toHaveLength(1);
  });

  it('answers a min_validity above the token’s whole lifetime with the freshest token, saying so, without a refresh', async () => {
    const before = webex.tokenCalls.length;
    for (let i = 0; i < 5; i++) {
      const res = await get(`/api/v1/connections/${bob}/token?min_validity=7200`, bobKey);
      expect(res.statusCode).toBe(200);
      expect(res.json().min_validity_met).toBe(false);
    }
    expect(webex.tokenCalls.length).toBe(before);
  });

  it('validates min_validity and the id', async () => {
    for (const q of ['abc', '-1', '999999', '1.5']) {
      const res = await get(`/api/v1/connections/${alice}/token?min_validity=${q}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'invalid_request' });
      expect(res.json().detail).toContain('min_validity');
    }
    expect((await get('/api/v1/connections/bad%20id/token')).statusCode).toBe(400);
  });

  it('answers 503 + Retry-After when Webex is down, and the connection stays active', async () => {
    webex.answers.push({ status: 503, retryAfter: 30 });
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/connections/${alice}/refresh`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.json().code).toBe('upstream_unavailable');
    expect((await vault.connections.get(alice))?.status).toBe('active');
    // The refresh backs off until Retry-After (vault/backoff.ts): the next tests run after that wait.
    expect((await vault.connections.get(alice))?.refreshFailing).toBe(true);
    now += 30_000;
  });

  it('refreshes on POST, and rejects a large body with 413', async () => {
    const ok = await app.inject({
      method: 'POST',
      url: `/api/v1/connections/${alice}/refresh`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().connection.id).toBe(alice);
    const big = await app.inject({
      method: 'POST',
      url: `/api/v1/connections/${alice}/refresh`,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(5000) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('payload_too_large');
  });

  it('answers needs_reauth as a problem without leaking the refresh token', async () => {
    webex.answers.push({ status: 400, body: { error: 'invalid_grant', error_description: 'bad' } });
    now += 2 * 3_600_000 + 14 * DAY;
    const res = await get(`/api/v1/connections/${alice}/token`);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('needs_reauth');
    expect(res.body).not.toMatch(/REFRESH-CANARY|CLIENT-SECRET-CANARY/);
    const list = await get('/api/v1/connections');
    expect(list.json().connections[0].status).toBe('needs_reauth');
  });

  it('serves metrics in the Prometheus format, to an admin (Bearer ADMIN_TOKEN) only', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', `Bearer ${key}`]) {
      const refused = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization ? { authorization } : {},
      });
      expect(refused.statusCode, authorization).toBe(401);
      expect(refused.headers['www-authenticate'], authorization).toContain('Bearer');
      expect(refused.body, authorization).not.toContain('webex_auth_');
    }
    const res = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('webex_auth_refreshes_total{outcome="success"} 2');
    expect(res.body).toContain('webex_auth_refreshes_total{outcome="needs_reauth"} 1');
    expect(res.body).toContain('webex_auth_refresh_duration_seconds_bucket{le="+Inf"} 4');
    expect(res.body).toContain('webex_auth_connections{status="needs_reauth"} 1');
    expect(res.body).toContain('webex_auth_connections{status="active"} 1');
  });

  it('serves the OpenAPI document', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json().openapi).toBe('3.1.0');
    expect(Object.keys(res.json().paths)).toContain('/api/v1/connections/{id}/token');
  });

  it('deletes a connection of the key', async () => {
    const del = (k: string) =>
      app.inject({ method: 'DELETE', url: `/api/v1/connections/${bob}`, headers: { authorization: `Bearer ${k}` } });
    expect((await del(key)).statusCode).toBe(403);
    expect((await del(bobKey)).statusCode).toBe(204);
    expect((await del(bobKey)).statusCode).toBe(404);
  });

  it('rate-limits per key with 429 + Retry-After', async () => {
    const limited = Fastify();
    await limited.register(brokerRoutes, {
      vault,
      config: { keepaliveDays: 30 },
      rateLimit: { burst: 3, perSecond: 0.01 },
    });
    const codes: number[] = [];
    let last: Awaited<ReturnType<FastifyInstance['inject']>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await limited.inject({
        method: 'GET',
        url: '/api/v1/connections',
        headers: { authorization: `Bearer ${key}` },
      });
      codes.push(last.statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect(last?.json().code).toBe('rate_limited');
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    await limited.close();
  });
});
