/**
 * The keep-alive sweep against the emulator, on SQLite and PostgreSQL: a failing head of due connections no longer
 * stops the sweep, two instances on one store share it without refreshing a connection twice, and closing the vault
 * stops a sweep in flight between two refreshes. Connections hold real grants (one each) under made-up people; the
 * broker's clock is moved past their keep-alive due time (`KEEPALIVE_DAYS` 89: due about a day after the grant).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import { openVault, type VaultInternals } from '../../src/vault/vault.js';
import { control, grantFromEmulator, refreshGrants, testSeed } from './emulator-grant.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, TEST_KEY, tempDir, testConfig } from './helpers.js';
import { until } from './lifecycle-support.js';

const DAY = 86_400_000;
const pgUp = await postgresAvailable();
let emulator: RunningEmulator;
const dir = tempDir();
beforeAll(async () => {
  emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com' });
});
// Every test starts from a fresh emulator state (Alice's live tokens stay under Webex's cap).
beforeEach(async () => {
  await control(emulator.url, 'reset', {});
});
afterAll(async () => {
  await emulator?.close();
  dir.cleanup();
});

/** Stores `n` connections, each with its own real grant. */
async function connect(vault: VaultInternals, n: number, clock: () => number): Promise<string[]> {
  const ids: string[] = [];
  let integrationId = '';
  for (let i = 0; i < n; i++) {
    const grant = await grantFromEmulator(emulator.apiBase, clock);
    if (!integrationId)
      integrationId = (await vault.integrations.upsert({ ...grant.integration, scopes: ['spark:all'] })).id;
    const c = await vault.connections.saveFromGrant({
      integrationId,
      tokens: grant.tokens,
      person: { id: `person-${i}`, emails: [`p${i}@example.com`], displayName: `P ${i}` },
      requestedScopes: ['spark:all'],
    });
    ids.push(c.id);
  }
  return ids;
}

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
])('the keep-alive sweep (%s)', (name, postgres) => {
  let n = 0;
  /** A vault's settings on a store of its own (`db`), or shared with another vault using the same `db`. */
  const open = (db: string, clock: () => number, env: Record<string, string> = {}, tuning = {}) =>
    openVault(
      testConfig({
        WEBEX_AUTH_KEYS: TEST_KEY,
        KEEPALIVE_DAYS: '89',
        ...env,
        ...(postgres ? { DATABASE_URL: PG_URL } : { WEBEX_AUTH_DB: join(dir.dir, `${db}.db`) }),
      }),
      { clock, retryBaseDelayMs: 1, ...(postgres ? { schema: db } : {}), ...tuning },
    );
  const schemas: string[] = [];
  const fresh = () => {
    const db = postgres ? freshSchema('sweep') : `sweep-${name}-${n++}`;
    if (postgres) schemas.push(db);
    return db;
  };
  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
  });

  it.skipIf(postgres && !pgUp)(
    'goes past a failing head: 100 of 250 fail, the other 150 are refreshed, the 100 at their next attempt',
    async () => {
      let offset = 0;
      const clock = () => Date.now() + offset;
      const vault = await open(fresh(), clock, { KEEPALIVE_CONCURRENCY: '1' }, { keepAliveJitterMs: 0 });
      try {
        const ids = await connect(vault, 250, clock);
        offset = 2 * DAY;
        expect(await vault.store.dueForKeepAlive(clock(), 1000)).toHaveLength(250);
        const before = await refreshGrants(emulator.url);
        // Webex answers 503 to the first 300 token requests: the first 100 connections fail (3 tries each).
        await control(emulator.url, 'faults', { endpoint: 'token', status: 503, count: 300 });
        const first = await vault.sweepOnce();
        await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
        const second = await vault.sweepOnce();
        expect(first.failed).toBe(100);
        // Rows backing off are not claimed again: the second sweep (Webex healthy) finds nothing left to do now.
        expect(first.refreshed + second.refreshed).toBe(150);
        expect(await refreshGrants(emulator.url)).toBe(before + 150);
        const rows = await Promise.all(ids.map((id) => vault.connections.get(id)));
        const failing = rows.filter((c) => c?.refreshFailing);
        expect(failing).toHaveLength(100);
        expect(await vault.store.dueForKeepAlive(clock(), 1000)).toHaveLength(0);

        // At their next attempt, the sweep retries the 100 on its own and they recover.
        const next = Math.max(...failing.map((c) => c?.nextAttemptAt ?? 0));
        offset += next - clock() + 1000;
        const third = await vault.sweepOnce();
        expect(third).toMatchObject({ refreshed: 100, failed: 0 });
        const after = await Promise.all(ids.map((id) => vault.connections.get(id)));
        expect(after.filter((c) => c?.refreshFailing)).toHaveLength(0);
        expect(await refreshGrants(emulator.url)).toBe(before + 250);
      } finally {
        await vault.close();
      }
    },
    120_000,
  );

  it.skipIf(postgres && !pgUp)(
    'is shared by two instances, each doing 30–70 %, no connection refreshed twice, at KEEPALIVE_RATE',
    async () => {
      let offset = 0;
      const clock = () => Date.now() + offset;
      const db = fresh();
      const env = { KEEPALIVE_RATE: '20', KEEPALIVE_CONCURRENCY: '2' };
      const a = await open(db, clock, env);
      const b = await open(db, clock, env);
      try {
        await connect(a, 60, clock);
        offset = 2 * DAY;
        const before = await refreshGrants(emulator.url);
        const [ra, rb] = await Promise.all([a.sweepOnce(), b.sweepOnce()]);
        expect(ra.failed + rb.failed).toBe(0);
        expect(ra.refreshed + rb.refreshed).toBe(60);
        for (const r of [ra, rb]) {
          expect(r.refreshed).toBeGreaterThanOrEqual(18);
          expect(r.refreshed).toBeLessThanOrEqual(42);
        }
        // Exactly one refresh per connection at Webex.
        expect(await refreshGrants(emulator.url)).toBe(before + 60);
        expect(await a.store.dueForKeepAlive(clock(), 1000)).toHaveLength(0);
        console.info(`two instances shared a sweep of 60: ${ra.refreshed} / ${rb.refreshed}`);
      } finally {
        await a.close();
        await b.close();
      }
    },
    120_000,
  );

  it.skipIf(postgres)('stops a sweep in flight when the vault closes, releasing the rows it claimed', async () => {
    let offset = 0;
    const clock = () => Date.now() + offset;
    const db = fresh();
    // One refresh every 10 s: the second would wait; closing must not.
    const vault = await open(db, clock, { KEEPALIVE_RATE: '0.1', KEEPALIVE_CONCURRENCY: '1' });
    let closed = false;
    try {
      const ids = await connect(vault, 3, clock);
      offset = 2 * DAY;
      const before = await refreshGrants(emulator.url);
      const sweeping = vault.sweepOnce();
      await until(async () => (await refreshGrants(emulator.url)) > before, 'the first keep-alive refresh');
      await vault.close();
      closed = true;
      expect(await sweeping).toMatchObject({ refreshed: 1, failed: 0 });
      expect(await refreshGrants(emulator.url)).toBe(before + 1);
      // The two rows it had claimed are free for another instance right away.
      const store = await openSqliteStore(join(dir.dir, `${db}.db`));
      try {
        const rows = await Promise.all(ids.map((id) => store.getConnection(id)));
        expect(rows.filter((r) => r?.leaseHolder !== undefined)).toHaveLength(0);
        expect(await store.dueForKeepAlive(clock(), 10)).toHaveLength(2);
      } finally {
        await store.close();
      }
    } finally {
      if (!closed) await vault.close();
    }
  });
});
