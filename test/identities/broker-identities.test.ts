/**
 * The broker API for every identity kind, against the real emulator: a bot served by the token route and the proxy
 * (a 401 for a bot is passed back, never "refreshed"); a deauthorized Service App answered 409 `needs_reauth` naming
 * the reason; guest tokens minted through a Service App (each in the audit log) and reused per subject; a key without
 * `guests` refused.
 */
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { createLogger } from '../../src/log.js';
import { brokerRoutes } from '../../src/server/routes/api/index.js';
import type { VaultInternals } from '../../src/vault/index.js';
import type { KeyPermission } from '../../src/vault/types.js';
import { control, tokenWorks } from '../vault/emulator-grant.js';
import { TEST_KEY, testConfig } from '../vault/helpers.js';
import { BOT_TOKEN, fetcherConnection, identitySeed, ORG_A, SERVICE_APP, sqliteVault } from './fixture.js';

describe('broker API: bots, Service Apps, guests (emulator)', () => {
  let emulator: RunningEmulator;
  const closers: (() => unknown)[] = [];
  const clock = () => Date.now();
  /** Every log line of the brokers here (logged at debug). */
  let lines: string[] = [];
  const logged = (secret: string) => lines.some((l) => l.includes(secret));

  beforeAll(async () => {
    emulator = await startEmulator({ seed: identitySeed, autoConsent: 'alice@example.com' });
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await control(emulator.url, 'reset', {});
  });
  afterAll(async () => {
    await emulator?.close();
  });

  async function broker(vault: VaultInternals): Promise<FastifyInstance> {
    lines = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const app = Fastify({ loggerInstance: createLogger({ level: 'debug', destination }) as FastifyBaseLogger });
    await app.register(brokerRoutes, {
      vault,
      // The emulator as the server's own API base: the one loopback base team mode proxies to.
      config: testConfig({ WEBEX_AUTH_KEYS: TEST_KEY, WEBEX_AUTH_MODE: 'team', WEBEX_API_BASE: emulator.apiBase }),
      rateLimit: { burst: 1000, perSecond: 1000 },
    });
    closers.push(() => app.close());
    return app;
  }

  const keyFor = async (vault: VaultInternals, ids: string[], permissions: KeyPermission[]) =>
    (await vault.apiKeys.create({ name: 'k', connectionIds: ids, permissions })).key;

  async function serviceApp(vault: VaultInternals) {
    const fetcher = await fetcherConnection(vault, emulator, clock);
    return vault.identities.addServiceApp({
      appId: SERVICE_APP.id,
      clientId: SERVICE_APP.clientId,
      clientSecret: SERVICE_APP.clientSecret,
      orgId: ORG_A,
      fetcherConnectionId: fetcher.id,
    });
  }

  it('a bot: token route (expiry 100 years on), listing with its kind, the proxy, and a 401 passed through', async () => {
    const vault = await sqliteVault(closers, clock);
    const app = await broker(vault);
    const bot = await vault.identities.addBot({ apiBase: emulator.apiBase, token: BOT_TOKEN });
    const key = await keyFor(vault, [bot.id], ['token', 'proxy']);
    const auth = { authorization: `Bearer ${key}` };

    const token = await app.inject({ method: 'GET', url: `/api/v1/connections/${bot.id}/token`, headers: auth });
    expect(token.statusCode).toBe(200);
    expect(token.json().access_token).toBe(BOT_TOKEN);
    expect(new Date(token.json().expires_at).getUTCFullYear()).toBeGreaterThan(new Date().getUTCFullYear() + 98);

    const list = await app.inject({ method: 'GET', url: '/api/v1/connections', headers: auth });
    expect(list.json().connections).toEqual([
      expect.objectContaining({ id: bot.id, kind: 'bot', status: 'active', needs_reauth_reason: null }),
    ]);

    const me = await app.inject({ method: 'GET', url: `/api/v1/connections/${bot.id}/proxy/people/me`, headers: auth });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ type: 'bot', emails: ['ooo-bot@webex.bot'] });

    // The bot's token regenerated at Webex (revoked): Webex's 401 comes back unchanged, and no refresh is tried.
    await control(emulator.url, 'revoke', { accessToken: BOT_TOKEN });
    const before = (await control(emulator.url, 'stats')) as { grants: Record<string, number> };
    const refused = await app.inject({
      method: 'GET',
      url: `/api/v1/connections/${bot.id}/proxy/people/me`,
      headers: auth,
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['content-type']).not.toMatch(/problem/);
    expect(((await control(emulator.url, 'stats')) as { grants: Record<string, number> }).grants).toEqual(
      before.grants,
    );
    expect((await vault.connections.get(bot.id))?.status).toBe('active');
    expect(lines.length).toBeGreaterThan(0);
    expect(logged(BOT_TOKEN)).toBe(false);
    expect(logged(key)).toBe(false);
  });

  it('a deauthorized Service App: 409 needs_reauth naming the reason', async () => {
    const vault = await sqliteVault(closers, clock);
    const app = await broker(vault);
    const sa = await serviceApp(vault);
    const key = await keyFor(vault, [sa.id], ['token']);
    const url = `/api/v1/connections/${sa.id}/token`;
    const auth = { authorization: `Bearer ${key}` };
    expect((await app.inject({ method: 'GET', url, headers: auth })).statusCode).toBe(200);
    await control(emulator.url, `service-apps/${SERVICE_APP.id}/deauthorize`, { orgId: ORG_A });
    await vault.identities.serviceAppDeauthorized(SERVICE_APP.id, ORG_A);
    const answer = await app.inject({ method: 'GET', url, headers: auth });
    expect(answer.statusCode).toBe(409);
    expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(answer.json()).toMatchObject({ code: 'needs_reauth', reason: 'deauthorized' });
    expect(answer.json().detail).toMatch(/deauthorized/);
  });

  it('guest tokens: minted through the Service App, reused for the same subject, kept encrypted', async () => {
    const vault = await sqliteVault(closers, clock);
    const app = await broker(vault);
    const sa = await serviceApp(vault);
    const key = await keyFor(vault, [sa.id], ['guests']);
    const mint = (subject: string) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/connections/${sa.id}/guests`,
        headers: { authorization: `Bearer ${key}` },
        payload: { subject, displayName: `Guest ${subject}` },
      });
    const first = await mint('visitor-1');
    expect(first.statusCode).toBe(200);
    const body = first.json() as { access_token: string; expires_at: string };
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now() + 3600_000);
    expect(await tokenWorks(emulator.apiBase, body.access_token)).toBe(true);
    const guest = (await (
      await fetch(`${emulator.apiBase}/people/me`, { headers: { authorization: `Bearer ${body.access_token}` } })
    ).json()) as { type: string; displayName: string };
    expect(guest).toMatchObject({ type: 'appuser', displayName: 'Guest visitor-1' });

    const again = await mint('visitor-1');
    expect(again.json()).toEqual(body);
    const other = await mint('visitor-2');
    expect(other.json().access_token).not.toBe(body.access_token);
    // One guest per subject at Webex; the stored token is not in clear.
    const count = await fetch(`${emulator.apiBase}/guests/count`, {
      headers: { authorization: `Bearer ${(await vault.connections.getFreshToken(sa.id)).accessToken}` },
    });
    expect(((await count.json()) as { count: number }).count).toBe(2);
    const stored = await vault.store.getGuestToken(sa.id, 'visitor-1');
    expect(stored?.tokenEnc).not.toContain(body.access_token);
    // Each minted guest token is in the audit log (the key, the connection, the subject), a reused one is not; no token.
    const minted = await vault.audit.list({ action: 'guest.token' });
    expect(minted.map((e) => e.detail).sort()).toEqual(['subject visitor-1', 'subject visitor-2']);
    expect(minted.every((e) => e.target === sa.id && e.actor.kind === 'key')).toBe(true);
    const auditText = JSON.stringify(minted);
    expect(auditText).not.toContain(body.access_token);
    expect(auditText).not.toContain(other.json().access_token);

    const bad = await app.inject({
      method: 'POST',
      url: `/api/v1/connections/${sa.id}/guests`,
      headers: { authorization: `Bearer ${key}` },
      payload: { subject: '' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('invalid_request');
    expect(logged(body.access_token)).toBe(false);
    expect(logged(other.json().access_token)).toBe(false);
    expect(logged(key)).toBe(false);
  });

  it('a key without the guests permission gets 403; an integration connection cannot mint guests', async () => {
    const vault = await sqliteVault(closers, clock);
    const app = await broker(vault);
    const sa = await serviceApp(vault);
    const tokenOnly = await keyFor(vault, [sa.id], ['token', 'proxy']);
    const refused = await app.inject({
      method: 'POST',
      url: `/api/v1/connections/${sa.id}/guests`,
      headers: { authorization: `Bearer ${tokenOnly}` },
      payload: { subject: 's', displayName: 'S' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'forbidden' });
    expect(refused.json().detail).toMatch(/guests/);

    const fetcherId = sa.fetcherConnectionId as string;
    const guestsKey = await keyFor(vault, [fetcherId], ['guests']);
    const notApp = await app.inject({
      method: 'POST',
      url: `/api/v1/connections/${fetcherId}/guests`,
      headers: { authorization: `Bearer ${guestsKey}` },
      payload: { subject: 's', displayName: 'S' },
    });
    expect(notApp.statusCode).toBeGreaterThanOrEqual(400);
    expect(notApp.statusCode).toBeLessThan(500);
    expect(notApp.json().detail).toMatch(/Service App/);
  });
});
