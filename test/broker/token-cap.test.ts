/**
 * Cap awareness against the real emulator (`tokenCap: 20`) with `WEBEX_TOKEN_CAP=20`: a key forcing refreshes is
 * stopped at 90 % of the cap with a clear 429 + Retry-After and an audit entry, the current token is still served,
 * keep-alive refreshes still run, and the person can still log in on the web afterwards (Webex's cap never reached).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { buildApp } from '../../src/server/app.js';
import { brokerRoutes } from '../../src/server/routes/api/index.js';
import { openVault } from '../../src/vault/index.js';
import { Browser } from '../server/support/app.js';
import { connectFromEmulator, refreshGrants, TEST_INTEGRATION, testSeed } from '../vault/emulator-grant.js';
import { TEST_KEY, tempDir, testConfig } from '../vault/helpers.js';

const ACCESS_TTL_S = 3600;
let emulator: RunningEmulator;
const dir = tempDir();
beforeAll(async () => {
  emulator = await startEmulator({
    seed: testSeed,
    autoConsent: 'alice@example.com',
    accessTtl: ACCESS_TTL_S,
    tokenCap: 20,
  });
});
afterAll(async () => {
  await emulator?.close();
  dir.cleanup();
});

describe('the live-token cap', () => {
  it('stops forced refreshes short of the cap; the token is still served and the person can still log in', async () => {
    const db = join(dir.dir, 'cap.db');
    const env = {
      WEBEX_AUTH_DB: db,
      WEBEX_AUTH_KEYS: TEST_KEY,
      WEBEX_TOKEN_CAP: '20',
      FORCED_REFRESH_MIN_INTERVAL: '0',
      WEBEX_CLIENT_ID: TEST_INTEGRATION.clientId,
      WEBEX_CLIENT_SECRET: TEST_INTEGRATION.clientSecret,
      WEBEX_API_BASE: emulator.apiBase,
      LOG_LEVEL: 'silent',
    };
    const config = testConfig(env);
    const vault = await openVault(config, { keepAliveJitterMs: 0 });
    const broker = Fastify();
    try {
      const connection = await connectFromEmulator(vault, emulator.apiBase);
      const { key } = await vault.apiKeys.create({
        name: 'eager bot',
        connectionIds: [connection.id],
        permissions: ['token', 'refresh'],
      });
      await broker.register(brokerRoutes, { vault, config, rateLimit: { burst: 100_000, perSecond: 100_000 } });
      const headers = { authorization: `Bearer ${key}` };
      const before = await refreshGrants(emulator.url);

      // A bot forces refresh after refresh: each one mints a live token for Alice.
      let refused: Awaited<ReturnType<typeof broker.inject>> | undefined;
      let refreshed = 0;
      for (let i = 0; i < 40 && !refused; i++) {
        const res = await broker.inject({
          method: 'POST',
          url: `/api/v1/connections/${connection.id}/refresh`,
          headers,
        });
        if (res.statusCode === 200) refreshed++;
        else refused = res;
      }
      // The grant's token + 17 refreshes = 18 live tokens = 90 % of 20: the 18th forced refresh is refused.
      expect(refreshed).toBe(17);
      expect((await refreshGrants(emulator.url)) - before).toBe(17);
      expect(refused?.statusCode).toBe(429);
      expect(refused?.json()).toMatchObject({ code: 'rate_limited' });
      expect(refused?.json().detail).toContain("holds 18 of Webex's 20 live access tokens");
      // Retry-After: when the oldest live token (the grant's) expires.
      const wait = Number(refused?.headers['retry-after']);
      expect(wait).toBeGreaterThan(ACCESS_TTL_S - 120);
      expect(wait).toBeLessThanOrEqual(ACCESS_TTL_S);
      const audit = await vault.audit.list({ action: 'refresh.refused' });
      expect(audit[0]).toMatchObject({ target: connection.id, detail: 'token cap: 18/20' });

      // The current token is still served, and the standing is reported.
      const token = await broker.inject({ url: `/api/v1/connections/${connection.id}/token`, headers });
      expect(token.statusCode).toBe(200);
      expect(await vault.connections.tokenCap(connection.id)).toMatchObject({
        cap: 20,
        minted: 18,
        used: 18,
        percent: 90,
        warning: true,
        refusing: true,
      });

      // Keep-alive still runs at the cap (an idle connection must never die): make Alice's connection due now.
      const raw = new Database(db);
      raw.prepare('UPDATE connections SET keepalive_due_at = ? WHERE id = ?').run(Date.now() - 1000, connection.id);
      raw.close();
      expect(await vault.sweepOnce()).toMatchObject({ ran: true, refreshed: 1, failed: 0 });
      expect((await vault.connections.tokenCap(connection.id))?.minted).toBe(19);

      // Alice can still log in on the web: Webex's own cap (20) was never reached.
      const web = await buildApp(testConfig(env), { vault });
      try {
        const browser = new Browser(web);
        await browser.get('/');
        const start = await browser.post('/oauth/start', { scope: ['spark:people_read'] });
        expect(start.statusCode).toBe(303);
        const atWebex = await fetch(String(start.headers.location), { redirect: 'manual' });
        const callback = new URL(String(atWebex.headers.get('location')));
        expect(callback.searchParams.get('code')).toBeTruthy();
        const done = await browser.get(`${callback.pathname}${callback.search}`);
        expect(done.statusCode).toBe(200);
        const page = await browser.get(String(done.headers['content-location']));
        expect(page.statusCode).toBe(200);
        expect(page.body).toContain('Alice Example');

        // The admin dashboard's "Refresh" says it is the cap that refused, in the cap's own words, and records it.
        const dashboard = await browser.get('/connections');
        expect(dashboard.statusCode).toBe(200);
        const refusedAudits = (await vault.audit.list({ action: 'refresh.refused' })).length;
        const adminRefresh = await browser.post(`/admin/connections/${connection.id}/refresh`, {});
        expect(adminRefresh.statusCode).toBe(303);
        const shown = await browser.get(String(adminRefresh.headers.location));
        expect(shown.body).toContain('live access tokens');
        expect(shown.body).toContain('forced refreshes are refused at 90 %');
        expect(shown.body).not.toContain('refreshed moments ago');
        expect((await vault.audit.list({ action: 'refresh.refused' })).length).toBe(refusedAudits + 1);
      } finally {
        await web.close();
      }
    } finally {
      await broker.close();
      await vault.close();
    }
  }, 60_000);
});
