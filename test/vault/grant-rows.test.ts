/**
 * What a saved grant leaves in the store, read from the raw rows (SQLite and PostgreSQL): both tokens encrypted (no
 * plaintext in any column), the expiries Webex gave, and a keep-alive due time computed from the REFRESH token's
 * expiry — so a sweep on day 2 and on day 59 does nothing, and one on day 61 refreshes.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { control, grantFromEmulator, refreshGrants, testSeed } from './emulator-grant.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, TEST_KEY, tempDir, testConfig } from './helpers.js';

const DAY_MS = 86_400_000;
const KEEPALIVE_DAYS = 30;
const pgUp = await postgresAvailable();

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com' });
});
afterAll(async () => {
  await emulator?.close();
});

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
])('a saved grant (%s)', (_name, postgres) => {
  const closers: Array<() => Promise<unknown> | unknown> = [];
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;
  const advanceTo = async (day: number, start: number) => {
    const target = start + day * DAY_MS;
    const seconds = Math.round((target - clock()) / 1000);
    offsetMs += seconds * 1000;
    await control(emulator.url, 'clock', { advanceSeconds: seconds });
  };
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await control(emulator.url, 'reset', {});
    offsetMs = 0;
  });

  /** A vault, and a reader of its raw connection row. */
  async function open(): Promise<{ vault: VaultInternals; raw: (id: string) => Promise<Record<string, unknown>> }> {
    const env = { WEBEX_AUTH_KEYS: TEST_KEY, KEEPALIVE_DAYS: String(KEEPALIVE_DAYS) };
    const tuning = { clock, keepAliveJitterMs: 0, retryBaseDelayMs: 1 };
    if (postgres) {
      const schema = freshSchema('grant_rows');
      closers.push(() => dropSchema(schema));
      const vault = await openVault(testConfig({ ...env, DATABASE_URL: PG_URL }), { ...tuning, schema });
      closers.push(() => vault.close());
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      closers.push(() => client.end());
      return {
        vault,
        raw: async (id) => (await client.query(`SELECT * FROM ${schema}.connections WHERE id = $1`, [id])).rows[0],
      };
    }
    const t = tempDir();
    closers.push(t.cleanup);
    const path = join(t.dir, 'v.db');
    const vault = await openVault(testConfig({ ...env, WEBEX_AUTH_DB: path }), tuning);
    closers.push(() => vault.close());
    return {
      vault,
      raw: async (id) => {
        const db = new Database(path, { readonly: true });
        try {
          return db.prepare('SELECT * FROM connections WHERE id = ?').get(id) as Record<string, unknown>;
        } finally {
          db.close();
        }
      },
    };
  }

  async function save(vault: VaultInternals) {
    const grant = await grantFromEmulator(emulator.apiBase, clock);
    const integration = await vault.integrations.upsert({ ...grant.integration, scopes: ['spark:all'] });
    const connection = await vault.connections.saveFromGrant({
      integrationId: integration.id,
      tokens: grant.tokens,
      person: grant.person,
      requestedScopes: ['spark:all'],
    });
    return { grant, connection };
  }

  it.skipIf(postgres && !pgUp)('is stored encrypted, with the expiries Webex gave', async () => {
    const { vault, raw } = await open();
    const { grant, connection } = await save(vault);
    const row = await raw(connection.id);
    const { accessToken, refreshToken } = grant.tokens;
    // No column holds either token in clear.
    for (const value of Object.values(row)) {
      expect(String(value)).not.toContain(accessToken);
      expect(String(value)).not.toContain(refreshToken);
    }
    expect(String(row.access_token_enc)).not.toBe('');
    expect(String(row.refresh_token_enc)).not.toBe(String(row.access_token_enc));
    expect(row.key_id).toBe('test1');
    // The right expiries: the access token's ~14 days, the refresh token's ~90 days, as the grant said.
    expect(Number(row.access_expires_at)).toBe(grant.tokens.expiresAt);
    expect(Number(row.refresh_expires_at)).toBe(grant.tokens.refreshExpiresAt);
    expect(grant.tokens.refreshExpiresAt - grant.tokens.expiresAt).toBeGreaterThan(70 * DAY_MS);
    expect(row.status).toBe('active');
    // And they decrypt to the tokens Webex gave.
    expect(await vault.connections.revealTokens(connection.id)).toMatchObject({ accessToken, refreshToken });
  });

  it.skipIf(postgres && !pgUp)(
    'is due for keep-alive KEEPALIVE_DAYS before its refresh token expires, not before',
    async () => {
      const { vault, raw } = await open();
      const start = clock();
      const { grant, connection } = await save(vault);
      const due = Number((await raw(connection.id)).keepalive_due_at);
      const expected = grant.tokens.refreshExpiresAt - KEEPALIVE_DAYS * DAY_MS;
      // Jittered by at most 6 hours before that moment.
      expect(due).toBeLessThanOrEqual(expected);
      expect(due).toBeGreaterThanOrEqual(expected - 6 * 3_600_000);
      const before = await refreshGrants(emulator.url);
      for (const day of [2, 59]) {
        await advanceTo(day, start);
        expect(await vault.sweepOnce()).toMatchObject({ ran: true, refreshed: 0, failed: 0 });
      }
      expect(await refreshGrants(emulator.url)).toBe(before);
      // Day 61: due, refreshed once, and due again a refresh-token lifetime later.
      await advanceTo(61, start);
      expect(await vault.sweepOnce()).toMatchObject({ ran: true, refreshed: 1, failed: 0 });
      expect((await refreshGrants(emulator.url)) - before).toBe(1);
      expect(Number((await raw(connection.id)).keepalive_due_at)).toBeGreaterThan(clock() + 50 * DAY_MS);
    },
  );
});
