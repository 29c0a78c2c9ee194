/**
 * The store's refresh-lifecycle statements (migrations sqlite/008 and postgres/010) on SQLite and PostgreSQL: the
 * refresh history bounded per connection, minted tokens counted until they expire (an unchanged token is not a new
 * one), Webex's cached count, and the back-off state cleared by the next token write.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lifecycleCard } from '../../src/server/views/lifecycle.js';
import { TokenCapError, tokenCapStatus } from '../../src/vault/cap.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { MINT_PRUNE_INTERVAL_MS } from '../../src/vault/store/sql-history.js';
import {
  dropSchema,
  freshSchema,
  PG_URL,
  postgresAvailable,
  TEST_KEY,
  tempDir,
  testConfig,
  tokenSet,
} from './helpers.js';

const pgUp = await postgresAvailable();

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
])('refresh lifecycle in the store (%s)', (_name, postgres) => {
  const closers: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function open(settings: Record<string, string> = {}): Promise<{
    vault: VaultInternals;
    id: string;
    personId: string;
  }> {
    let vault: VaultInternals;
    if (postgres) {
      const schema = freshSchema('lifecycle');
      closers.push(() => dropSchema(schema));
      vault = await openVault(testConfig({ ...settings, WEBEX_AUTH_KEYS: TEST_KEY, DATABASE_URL: PG_URL }), { schema });
    } else {
      const t = tempDir();
      closers.push(t.cleanup);
      vault = await openVault(
        testConfig({ ...settings, WEBEX_AUTH_KEYS: TEST_KEY, WEBEX_AUTH_DB: join(t.dir, 'v.db') }),
      );
    }
    closers.push(() => vault.close());
    const integration = await vault.integrations.upsert({
      clientId: 'C1',
      clientSecret: 's'.repeat(20),
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      apiBase: 'https://webexapis.com/v1',
    });
    const c = await vault.connections.saveFromGrant({
      integrationId: integration.id,
      tokens: tokenSet({ accessToken: 'A1', refreshToken: 'R1' }),
      person: { id: 'person-1', emails: ['p@example.com'], displayName: 'P' },
      requestedScopes: ['spark:all'],
    });
    return { vault, id: c.id, personId: c.personId };
  }

  it.skipIf(postgres && !pgUp)('keeps the newest refreshes per connection, newest first', async () => {
    const { vault, id } = await open();
    for (let i = 0; i < 8; i++) {
      await vault.store.insertRefreshHistory(
        {
          connectionId: id,
          at: 1000 + i,
          kind: 'ondemand',
          outcome: 'success',
          status: 200,
          durationMs: 3.4,
          error: undefined,
        },
        5,
      );
    }
    await vault.store.insertRefreshHistory({
      connectionId: 'other',
      at: 5,
      kind: 'forced',
      outcome: 'failing',
      status: 503,
      durationMs: 1,
      error: 'server_error',
    });
    const rows = await vault.store.listRefreshHistory(id, 100);
    expect(rows.map((r) => r.at)).toEqual([1007, 1006, 1005, 1004, 1003]);
    expect(rows[0]).toMatchObject({
      kind: 'ondemand',
      outcome: 'success',
      status: 200,
      durationMs: 3,
      error: undefined,
    });
    expect(await vault.connections.history('other')).toEqual([
      { at: 5, kind: 'forced', outcome: 'failing', status: 503, durationMs: 1, error: 'server_error' },
    ]);
  });

  it.skipIf(postgres && !pgUp)(
    'counts a person’s live minted tokens across connections until they expire',
    async () => {
      const { vault, id, personId } = await open();
      const now = Date.now();
      // saveFromGrant minted the grant's token (14 days).
      expect((await vault.store.liveTokenMints(personId, now)).count).toBe(1);
      expect(
        await vault.store.recordTokenMint({ connectionId: id, personId, accessExpiresAt: now + 5000, mintedAt: now }),
      ).toBe(true);
      // The same (connection, expiry) again is an unchanged token, not a new one.
      expect(
        await vault.store.recordTokenMint({ connectionId: id, personId, accessExpiresAt: now + 5000, mintedAt: now }),
      ).toBe(false);
      expect(
        await vault.store.recordTokenMint({
          connectionId: 'conn_other',
          personId,
          accessExpiresAt: now + 9000,
          mintedAt: now,
        }),
      ).toBe(true);
      expect(await vault.store.liveTokenMints(personId, now)).toEqual({ count: 3, oldestExpiresAt: now + 5000 });
      expect((await vault.store.liveTokenMints(personId, now + 6000)).count).toBe(2);
      expect((await vault.store.liveTokenMints('someone-else', now)).count).toBe(0);
      await vault.store.setWebexTokenCount(personId, 7, now);
      await vault.store.setWebexTokenCount(personId, 9, now + 1);
      expect(await vault.store.getWebexTokenCount(personId)).toEqual({ accessTokens: 9, checkedAt: now + 1 });
      expect(await vault.connections.tokenCap(id)).toMatchObject({ minted: 3, used: 9, cap: 750, refusing: false });
      // A caller holding the connection names its person: the same status, without reading the row.
      expect(await vault.connections.tokenCap(id, personId)).toEqual(await vault.connections.tokenCap(id));
      expect(await vault.connections.tokenCap('conn_gone')).toBeUndefined();
    },
  );

  it.skipIf(postgres && !pgUp)(
    'counts live mints only up to the cap + 1: above the cap the page and the refusal say "more than" the cap',
    async () => {
      const { vault, id, personId } = await open({ WEBEX_TOKEN_CAP: '2' });
      const now = Date.now();
      for (const [connectionId, ttl] of [
        ['conn_a', 5000],
        ['conn_b', 9000],
        ['conn_c', 7000],
      ] as const) {
        await vault.store.recordTokenMint({ connectionId, personId, accessExpiresAt: now + ttl, mintedAt: now });
      }
      // Four live: the grant's and three more. A bounded count stops, and the oldest is still the oldest of all.
      expect(await vault.store.liveTokenMints(personId, now)).toEqual({ count: 4, oldestExpiresAt: now + 5000 });
      expect(await vault.store.liveTokenMints(personId, now, 2)).toEqual({ count: 2, oldestExpiresAt: now + 5000 });
      const cap = await vault.connections.tokenCap(id);
      expect(cap).toMatchObject({ cap: 2, minted: 3, used: 3, refusing: true, oldestExpiresAt: now + 5000 });
      if (!cap) throw new Error('no cap status');
      const connection = await vault.connections.get(id);
      if (!connection) throw new Error('no connection');
      const card = lifecycleCard({ connection, tokenCap: cap, history: [], csrf: 'x', now }).toString();
      expect(card).toContain('more than 2 of 2 live access tokens (150 %; minted by this broker: more than 2)');
      expect(new TokenCapError(cap, 5).message).toContain('This person holds more than 2 of Webex');
    },
  );

  it.skipIf(postgres && !pgUp)(
    'above the cap, counts again only once the oldest of the counted mints has expired',
    async () => {
      const { vault, personId } = await open();
      const now = Date.now();
      for (const [connectionId, ttl] of [
        ['conn_a', 125_000],
        ['conn_b', 129_000],
        ['conn_c', 127_000],
      ] as const) {
        await vault.store.recordTokenMint({ connectionId, personId, accessExpiresAt: now + ttl, mintedAt: now });
      }
      const o = { cap: 2, refuseAt: 90 };
      const counts = vi.spyOn(vault.store, 'liveTokenMints');
      const at = async (t: number) => {
        const s = await tokenCapStatus(vault.store, personId, t, o);
        return { minted: s.minted, oldest: s.oldestExpiresAt, atMost: counts.mock.calls.at(-1)?.[2] };
      };
      expect(await at(now)).toEqual({ minted: 3, oldest: now + 125_000, atMost: 3 });
      // Still above the cap until a minute before the oldest counted one expires (another process's clock may run
      // ahead and prune it early): only the oldest is read.
      expect(await at(now + 64_999)).toEqual({ minted: 3, oldest: now + 125_000, atMost: 0 });
      expect(await at(now + 65_000)).toEqual({ minted: 3, oldest: now + 125_000, atMost: 3 });
      // conn_a expired: counted again (the grant's, conn_b and conn_c are still more than 2).
      expect(await at(now + 125_000)).toEqual({ minted: 3, oldest: now + 127_000, atMost: 3 });
      // conn_c expired too: only the grant's and conn_b are live.
      expect(await at(now + 127_000)).toEqual({ minted: 2, oldest: now + 129_000, atMost: 3 });
      // A cap this person is under is counted every time.
      expect(await at(now + 127_001)).toEqual({ minted: 2, oldest: now + 129_000, atMost: 3 });
    },
  );

  it.skipIf(postgres && !pgUp)(
    'drops a person’s expired mints at a later mint, at most once per interval, never a live one',
    async () => {
      const { vault, personId } = await open();
      const t = Date.now();
      const mint = (connectionId: string, mintedAt: number, ttl: number) =>
        vault.store.recordTokenMint({ connectionId, personId, accessExpiresAt: mintedAt + ttl, mintedAt });
      // Every row, expired or not, is counted by a count "at time 0".
      const rows = async () => (await vault.store.liveTokenMints(personId, 0)).count;
      // The grant minted one (pruning at its mint); two short-lived ones follow within the interval.
      await mint('conn_a', t, 1000);
      await mint('conn_b', t + 2000, 1000); // conn_a has expired: kept, the last prune is too recent
      expect(await rows()).toBe(3);
      expect((await vault.store.liveTokenMints(personId, t + 2500)).count).toBe(2); // the counts are exact all along
      // An interval after the last prune, the next mint drops every expired one of this person, and only those.
      await mint('conn_c', t + MINT_PRUNE_INTERVAL_MS + 10, 1000);
      expect(await rows()).toBe(2); // the grant's (14 days) and conn_c's
      expect((await vault.store.liveTokenMints(personId, t + MINT_PRUNE_INTERVAL_MS + 10)).count).toBe(2);
    },
  );

  it.skipIf(postgres && !pgUp)('records a failing run and clears it with the next token write', async () => {
    const { vault, id } = await open();
    const f1 = await vault.store.recordRefreshFailure(id, 'me', {
      lastError: 'upstream_unavailable',
      status: 503,
      now: 1000,
      nextAttemptAt: 31_000,
    });
    const f2 = await vault.store.recordRefreshFailure(id, 'me', {
      lastError: 'upstream_unavailable',
      status: 0,
      now: 31_000,
      nextAttemptAt: 91_000,
    });
    expect(f1).toEqual({ failures: 1, failingSince: 1000 });
    expect(f2).toEqual({ failures: 2, failingSince: 1000 });
    expect(await vault.connections.get(id)).toMatchObject({
      status: 'active',
      refreshFailing: true,
      refreshFailures: 2,
      failingSince: 1000,
      nextAttemptAt: 91_000,
      lastErrorStatus: 0,
      lastError: 'upstream_unavailable',
    });
    expect(
      await vault.store.recordRefreshFailure('nope', 'me', { lastError: 'x', status: 1, now: 1, nextAttemptAt: 2 }),
    ).toBe(undefined);
    const row = await vault.store.getConnection(id);
    const leased = await vault.store.acquireLease(id, 'me', Date.now() + 10_000, Date.now());
    expect(leased).toBeDefined();
    expect(
      await vault.store.writeTokens(id, row?.version ?? 0, 'me', {
        accessTokenEnc: row?.accessTokenEnc ?? '',
        refreshTokenEnc: row?.refreshTokenEnc ?? '',
        keyId: row?.keyId ?? '',
        accessExpiresAt: 5,
        refreshExpiresAt: 6,
        keepaliveDueAt: undefined,
        scopes: [],
        lastRefreshAt: 7,
        updatedAt: 7,
      }),
    ).toBe(true);
    expect(await vault.connections.get(id)).toMatchObject({
      refreshFailing: false,
      refreshFailures: 0,
      failingSince: undefined,
      nextAttemptAt: undefined,
      lastErrorStatus: undefined,
    });
  });
});
