/**
 * The vault and broker against the real emulator on loopback: single flight across two instances on one PostgreSQL,
 * keep-alive after 80 idle days, invalid_grant → needs_reauth with a verified webhook, and a lease holder killed
 * with SIGKILL mid-refresh.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { brokerRoutes } from '../../src/server/routes/api/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { useEmulatorOnClock } from './emulator-clock.js';
import { control, grantFromEmulator, refreshGrants, testSeed, tokenWorks } from './emulator-grant.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, TEST_KEY, tempDir, testConfig } from './helpers.js';

const DAY_S = 86_400;
const pgUp = await postgresAvailable();
const root = resolve(import.meta.dirname, '..', '..');

describe('vault with the emulator', () => {
  /** The vault's clock runs with the emulator's: both advance together. */
  const { emulator, clock, advance, shift, offsetMs, closers } = useEmulatorOnClock({
    seed: testSeed,
    autoConsent: 'alice@example.com',
  });

  async function sqliteVault(extra: Record<string, string> = {}) {
    const t = tempDir();
    closers.push(t.cleanup);
    const config = testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY, ...extra });
    const vault = await openVault(config, { clock, keepAliveJitterMs: 0, retryBaseDelayMs: 1, webhookBaseDelayMs: 1 });
    closers.push(() => vault.close());
    return { vault, config, db: join(t.dir, 'v.db') };
  }

  async function connect(vault: VaultInternals) {
    const grant = await grantFromEmulator(emulator.apiBase, clock);
    const integ = await vault.integrations.upsert({ ...grant.integration, scopes: ['spark:all'] });
    const c = await vault.connections.saveFromGrant({
      integrationId: integ.id,
      tokens: grant.tokens,
      person: grant.person,
      requestedScopes: ['spark:all', 'spark:people_read'],
    });
    return { connection: c, grant };
  }

  it.skipIf(!pgUp)(
    'two broker instances on one PostgreSQL: 200 concurrent requests on an expired token make exactly one refresh',
    async () => {
      const schema = freshSchema('single_flight');
      closers.push(() => dropSchema(schema));
      const config = testConfig({ DATABASE_URL: PG_URL, WEBEX_AUTH_KEYS: TEST_KEY });
      const a = await openVault(config, { clock, schema, instanceId: 'A' });
      closers.push(() => a.close());
      const b = await openVault(config, { clock, schema, instanceId: 'B' });
      closers.push(() => b.close());
      const { connection, grant } = await connect(a);
      const { key } = await a.apiKeys.create({ name: 'bot', connectionIds: [connection.id] });
      const apps: FastifyInstance[] = [];
      for (const vault of [a, b]) {
        const app = Fastify();
        await app.register(brokerRoutes, { vault, config, rateLimit: { burst: 1000 } });
        closers.push(() => app.close());
        apps.push(app);
      }
      await advance(15 * DAY_S); // the 14-day access token has expired
      const before = await refreshGrants(emulator.url);
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          apps[i % 2]?.inject({
            method: 'GET',
            url: `/api/v1/connections/${connection.id}/token`,
            headers: { authorization: `Bearer ${key}` },
          }),
        ),
      );
      expect(responses.map((r) => r?.statusCode)).toEqual(Array(200).fill(200));
      const tokens = new Set(responses.map((r) => r?.json().access_token));
      expect(tokens.size).toBe(1);
      const [token] = [...tokens] as [string];
      expect(token).not.toBe(grant.tokens.accessToken);
      expect(await refreshGrants(emulator.url)).toBe(before + 1);
      expect(await tokenWorks(emulator.apiBase, token)).toBe(true);
      expect(a.metrics.refreshes.success + b.metrics.refreshes.success).toBe(1);
    },
  );

  it('keep-alive: after 80 idle days the sweep refreshes the connection, which then outlives the first 90 days', async () => {
    const { vault } = await sqliteVault({ KEEPALIVE_DAYS: '30' });
    const { connection } = await connect(vault);
    expect((await vault.sweepOnce()).refreshed).toBe(0);
    await advance(80 * DAY_S);
    const before = await refreshGrants(emulator.url);
    expect(await vault.sweepOnce()).toEqual({ ran: true, refreshed: 1, failed: 0 });
    expect(await refreshGrants(emulator.url)).toBe(before + 1);
    const after = await vault.connections.get(connection.id);
    expect(after?.refreshExpiresAt).toBeGreaterThan(clock() + 80 * DAY_S * 1000);
    // Day 100: the original refresh token would be dead by now; the kept-alive connection still refreshes.
    await advance(20 * DAY_S);
    const fresh = await vault.connections.getFreshToken(connection.id);
    expect(await tokenWorks(emulator.apiBase, fresh.accessToken)).toBe(true);
    expect((await vault.connections.get(connection.id))?.status).toBe('active');
  });

  for (const how of ['fault invalid_grant', 'revoked refresh token'] as const) {
    it(`${how} → needs_reauth and a signed webhook to a real receiver`, async () => {
      const received: Array<{ body: string; headers: Record<string, string> }> = [];
      const notify: () => void = () => {};
      const server: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => {
          body += c;
        });
        req.on('end', () => {
          received.push({ body, headers: req.headers as Record<string, string> });
          res.writeHead(204).end();
          notify();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      closers.push(() => new Promise((r) => server.close(r)));
      const port = (server.address() as AddressInfo).port;
      const secret = 'whsec-test-0123456789';
      const { vault } = await sqliteVault({ WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, WEBHOOK_SECRET: secret });
      const { connection, grant } = await connect(vault);
      await vault.drainWebhooks();
      if (how === 'fault invalid_grant') {
        await control(emulator.url, 'faults', { endpoint: 'token', error: 'invalid_grant', count: 1 });
      } else {
        await control(emulator.url, 'revoke', { refreshToken: grant.tokens.refreshToken });
      }
      await expect(vault.connections.refresh(connection.id)).rejects.toMatchObject({ code: 'needs_reauth' });
      const c = await vault.connections.get(connection.id);
      expect(c?.status).toBe('needs_reauth');
      await vault.drainWebhooks();
      const hook = received.find((r) => JSON.parse(r.body).type === 'connection.needs_reauth');
      expect(hook).toBeDefined();
      // Standard Webhooks, verified as a receiver does (a plain WEBHOOK_SECRET is the key's bytes).
      expect(new Webhook(secret, { format: 'raw' }).verify(hook?.body ?? '', hook?.headers ?? {})).toMatchObject({
        type: 'connection.needs_reauth',
        data: { connectionId: connection.id },
      });
      expect(received.map((r) => JSON.parse(r.body).type)).toContain('connection.created');
      // The connection is kept, and the refresh token is kept too (for a support look-up), encrypted.
      expect(await vault.connections.list()).toHaveLength(1);
    });
  }

  it('a process killed (SIGKILL) while holding the refresh lease does not block the next request', async () => {
    const dist = join(root, 'dist');
    const built = join(dist, 'vault', 'refresher.js');
    expect(existsSync(built), 'run `npm run build` first (npm test does)').toBe(true);
    expect(
      statSync(built).mtimeMs >= statSync(join(root, 'src', 'vault', 'refresher.ts')).mtimeMs,
      'dist/ is older than src/vault: run `npm run build`',
    ).toBe(true);
    const { vault, db } = await sqliteVault();
    const { connection } = await connect(vault);
    await advance(15 * DAY_S);
    // The child's refresh request hangs at the emulator until it is killed.
    await control(emulator.url, 'faults', { endpoint: 'token', delayMs: 60_000, count: 1 });
    const child = spawn(process.execPath, [join(root, 'test', 'vault', 'fixtures', 'lease-holder.mjs')], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DIST: dist,
        WEBEX_AUTH_DB: db,
        WEBEX_AUTH_KEYS: TEST_KEY,
        CONNECTION_ID: connection.id,
        CLOCK_OFFSET_MS: String(offsetMs()),
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise((r) => child.once('exit', r));
    closers.push(() => {
      child.kill('SIGKILL');
    });
    // Wait until the child holds the lease (read from the row it wrote) and its refresh request reached the
    // emulator (the one-shot delay fault is used up).
    for (;;) {
      const row = await vault.store.getConnection(connection.id);
      const { faults } = (await control(emulator.url, 'faults')) as { faults: unknown[] };
      if (row?.leaseHolder === 'doomed-child' && faults.length === 0) break;
      if (child.exitCode !== null) throw new Error(`child exited early: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    // The dead holder's lease runs out (120 s in the child); our clock moves past it instead of waiting.
    shift(121_000);
    const fresh = await vault.connections.getFreshToken(connection.id);
    expect(await tokenWorks(emulator.apiBase, fresh.accessToken)).toBe(true);
    const row = await vault.store.getConnection(connection.id);
    expect(row?.leaseHolder).toBeUndefined();
    expect(row?.status).toBe('active');
  });
});
