/**
 * Forced refreshes limited per connection (issue 16, row 1: one broker key forced 742 refreshes in 32 s and exhausted
 * the person's 750 live-token cap). The real broker on a loopback port over a real vault (SQLite, or PostgreSQL for
 * two instances), against the real emulator, whose `/_emulator/stats` counts the `refresh_token` grants it made.
 */
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { buildApp } from '../../src/server/app.js';
import { brokerRoutes } from '../../src/server/routes/api/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { LOCAL_OPERATOR } from '../../src/vault/types.js';
import { Browser } from '../server/support/app.js';
import { useEmulatorOnClock } from '../vault/emulator-clock.js';
import {
  connectFromEmulator,
  grantFromEmulator,
  refreshGrants,
  TEST_INTEGRATION,
  testSeed,
} from '../vault/emulator-grant.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, TEST_KEY, tempDir, testConfig } from '../vault/helpers.js';

const pgUp = await postgresAvailable();
/** The emulator's access tokens live an hour here, so a test can bring one near expiry without leaving a long interval. */
const ACCESS_TTL_S = 3600;

describe('forced refreshes are limited per connection', () => {
  /** The vaults' clock runs with the emulator's: both advance together. */
  const { emulator, clock, advance, closers } = useEmulatorOnClock({
    seed: testSeed,
    autoConsent: 'alice@example.com',
    accessTtl: ACCESS_TTL_S,
  });

  /** A vault on its own SQLite file (or on `schema` of PostgreSQL), closed after the test. */
  async function vaultOf(env: Record<string, string>, schema?: string) {
    let config: Config;
    if (schema) config = testConfig({ DATABASE_URL: PG_URL, WEBEX_AUTH_KEYS: TEST_KEY, ...env });
    else {
      const t = tempDir();
      closers.push(t.cleanup);
      config = testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY, ...env });
    }
    const vault = await openVault(config, { clock, retryBaseDelayMs: 1, ...(schema ? { schema } : {}) });
    closers.push(() => vault.close());
    return { vault, config };
  }

  /** The real broker on a loopback port; the per-key rate limit is out of the way, so every 429 here is the vault's. */
  async function brokerOf(vault: VaultInternals, config: Config): Promise<string> {
    const app: FastifyInstance = Fastify();
    await app.register(brokerRoutes, { vault, config, rateLimit: { burst: 100_000, perSecond: 100_000 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => app.close());
    const address = app.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  /** Alice's connection (a real grant from the emulator) and a key for it that may read tokens and force refreshes. */
  async function connect(vault: VaultInternals) {
    const connection = await connectFromEmulator(vault, emulator.apiBase, clock);
    const { key } = await vault.apiKeys.create({
      name: 'bot',
      connectionIds: [connection.id],
      permissions: ['token', 'refresh'],
    });
    return { id: connection.id, key };
  }

  const forceRefresh = (base: string, id: string, key: string) =>
    fetch(`${base}/api/v1/connections/${id}/refresh`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
  const token = (base: string, id: string, key: string, minValidity = 60) =>
    fetch(`${base}/api/v1/connections/${id}/token?min_validity=${minValidity}`, {
      headers: { authorization: `Bearer ${key}` },
    });

  /** Sends `n` forced refreshes one after another (`bases` in turn); returns the statuses and the 429s' problems. */
  async function inARow(n: number, bases: string[], id: string, key: string) {
    const statuses: number[] = [];
    const refused: Array<{ retryAfter: number; body: { code: string; detail: string } }> = [];
    for (let i = 0; i < n; i++) {
      const res = await forceRefresh(bases[i % bases.length] as string, id, key);
      statuses.push(res.status);
      const body = (await res.json()) as { code: string; detail: string };
      if (res.status === 429) refused.push({ retryAfter: Number(res.headers.get('retry-after')), body });
    }
    return { statuses, refused };
  }

  it('a key with `refresh` sends 30 forced refreshes in a row: one reaches Webex, 29 get 429 with Retry-After', async () => {
    const { vault, config } = await vaultOf({});
    const base = await brokerOf(vault, config);
    const { id, key } = await connect(vault);
    const before = await refreshGrants(emulator.url);

    const { statuses, refused } = await inARow(30, [base], id, key);

    expect(statuses[0]).toBe(200);
    expect(statuses.slice(1)).toEqual(Array(29).fill(429));
    expect((await refreshGrants(emulator.url)) - before).toBe(1);
    for (const r of refused) {
      expect(r.body).toMatchObject({ code: 'rate_limited', status: 429 });
      expect(r.body.detail).toBe('This connection was refreshed less than 30 s ago.');
      expect(r.retryAfter).toBeGreaterThanOrEqual(1);
      expect(r.retryAfter).toBeLessThanOrEqual(30);
    }
    // Once the interval has passed, a forced refresh runs again.
    await advance(30);
    expect((await forceRefresh(base, id, key)).status).toBe(200);
    expect((await refreshGrants(emulator.url)) - before).toBe(2);
  });

  it('row 1: 742 forced refreshes in a burst mint at most one token, and the person can still sign in', async () => {
    const { vault, config } = await vaultOf({});
    const base = await brokerOf(vault, config);
    const { id, key } = await connect(vault);
    const before = await refreshGrants(emulator.url);

    const { statuses } = await inARow(742, [base], id, key);

    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(741);
    expect((await refreshGrants(emulator.url)) - before).toBeLessThanOrEqual(1);
    // The person's live-token cap (750) is far from reached: a new sign-in still gets tokens.
    await expect(grantFromEmulator(emulator.apiBase, clock)).resolves.toMatchObject({ tokens: expect.any(Object) });
  });

  it('a token about to expire is still refreshed inside the interval: that refresh is not a forced one', async () => {
    const { vault, config } = await vaultOf({ FORCED_REFRESH_MIN_INTERVAL: '86400' });
    const base = await brokerOf(vault, config);
    const { id, key } = await connect(vault);
    const before = await refreshGrants(emulator.url);
    expect((await forceRefresh(base, id, key)).status).toBe(200);
    const forced = (await vault.connections.get(id))?.accessExpiresAt as number;

    await advance(ACCESS_TTL_S - 30); // 30 s of validity left, under the 60 s asked for; well inside the day
    const res = await token(base, id, key);

    expect(res.status).toBe(200);
    expect(Date.parse(((await res.json()) as { expires_at: string }).expires_at)).toBeGreaterThan(forced);
    expect((await refreshGrants(emulator.url)) - before).toBe(2);
    // A forced one is still refused: the on-demand refresh neither used nor reset the forced-refresh interval.
    const again = await forceRefresh(base, id, key);
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(86_400 - ACCESS_TTL_S);
  });

  it('FORCED_REFRESH_MIN_INTERVAL=0: no limit', async () => {
    const { vault, config } = await vaultOf({ FORCED_REFRESH_MIN_INTERVAL: '0' });
    const base = await brokerOf(vault, config);
    const { id, key } = await connect(vault);
    const before = await refreshGrants(emulator.url);

    const { statuses } = await inARow(3, [base], id, key);

    expect(statuses).toEqual([200, 200, 200]);
    expect((await refreshGrants(emulator.url)) - before).toBe(3);
  });

  it('the vault refuses whoever asks: after the broker forced one, `connections.refresh` is rate_limited too', async () => {
    const { vault, config } = await vaultOf({});
    const base = await brokerOf(vault, config);
    const { id, key } = await connect(vault);
    expect((await forceRefresh(base, id, key)).status).toBe(200);
    await expect(vault.connections.refresh(id)).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(vault.connections.refresh('no-such-connection')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('"Refresh now" and the dashboard: 429 page and a notice saying when it can run again; audited', async () => {
    const { vault, config } = await vaultOf({});
    const { id, key } = await connect(vault);
    const web = await buildApp(
      testConfig({
        WEBEX_AUTH_DB: config.dbPath,
        WEBEX_AUTH_KEYS: TEST_KEY,
        WEBEX_CLIENT_ID: TEST_INTEGRATION.clientId,
        WEBEX_CLIENT_SECRET: TEST_INTEGRATION.clientSecret,
        WEBEX_API_BASE: emulator.apiBase,
        LOG_LEVEL: 'silent',
      }),
      { vault },
    );
    closers.push(() => web.close());
    const browser = new Browser(web);
    const before = await refreshGrants(emulator.url);

    // Local mode: the local operator owns the connection and is admin. The first forced refresh runs.
    await browser.get(`/connections/${id}`);
    expect((await browser.post(`/connections/${id}/refresh`, {})).statusCode).toBe(303);
    // The second, from the page: 429 with Retry-After and a page that says when.
    const page = await browser.post(`/connections/${id}/refresh`, {});
    expect(page.statusCode).toBe(429);
    const wait = Number(page.headers['retry-after']);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(30);
    expect(page.body).toContain(`a forced refresh can run again in ${wait} s`);
    // From the dashboard: its notice says when.
    await browser.get('/connections');
    const dashboard = await browser.post(`/admin/connections/${id}/refresh`, {});
    expect(dashboard.statusCode).toBe(303);
    expect(dashboard.headers.location).toMatch(/^\/connections\?notice=rate_limited&retry_after=\d+$/);
    const notice = await browser.get(dashboard.headers.location as string);
    expect(notice.body).toMatch(/a forced refresh can run again in \d+ s/);
    // A broker key is refused too: the limit is the connection's, whoever asks.
    expect((await forceRefresh(await brokerOf(vault, config), id, key)).status).toBe(429);
    expect((await refreshGrants(emulator.url)) - before).toBe(1);
    // Forged notices show nothing odd.
    for (const q of [
      'notice=rate_limited&retry_after=<b>',
      'notice=toString',
      'notice=rate_limited&retry_after=999999',
    ]) {
      const res = await browser.get(`/connections?${q}`);
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain('<b>');
      expect(res.body).not.toContain('function');
    }

    const entries = await vault.audit.list({ limit: 10 });
    const web3 = entries.filter((e) => e.target === id && e.actor.kind === 'local');
    // The forced refresh is logged; the two refused ones minted nothing and are not (no audit rows at request rate).
    expect(web3.map((e) => e.action).sort()).toEqual(['refresh.forced']);
    for (const e of web3) expect(e).toMatchObject({ ownerId: LOCAL_OPERATOR, address: '127.0.0.1' });
  });

  it.skipIf(!pgUp)('two broker instances on one PostgreSQL schema share the limit', async () => {
    const schema = freshSchema('forced_refresh');
    closers.push(() => dropSchema(schema));
    const a = await vaultOf({}, schema);
    const b = await vaultOf({}, schema);
    const bases = [await brokerOf(a.vault, a.config), await brokerOf(b.vault, b.config)];
    const { id, key } = await connect(a.vault);
    const before = await refreshGrants(emulator.url);

    // 30 in a row, alternating between the instances.
    const { statuses } = await inARow(30, bases, id, key);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect((await refreshGrants(emulator.url)) - before).toBeLessThanOrEqual(1);

    // 30 at once, spread over both, once the interval has passed: still one.
    await advance(30);
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => forceRefresh(bases[i % 2] as string, id, key)),
    );
    expect(burst.filter((r) => r.status === 200)).toHaveLength(1);
    expect(burst.filter((r) => r.status === 429)).toHaveLength(29);
    for (const r of burst) await r.body?.cancel();
    expect((await refreshGrants(emulator.url)) - before).toBeLessThanOrEqual(2);
  });
});
