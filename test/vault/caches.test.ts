/**
 * The broker's hot-path caches (SECURITY.md, "Broker hot-path caches"): verified API keys (by hash, a few seconds)
 * and connection rows + decrypted access tokens (by the store's change stamp). Each case runs on SQLite (two vault
 * instances on one file) and on PostgreSQL (two instances on one schema), the way two processes share a store.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BoundedCache } from '../../src/vault/bounded-cache.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import type { ChangeScope, ConnectionRow, Store } from '../../src/vault/store/types.js';
import { fakeWebex } from './fake-webex.js';
import {
  dropSchema,
  freshSchema,
  PG_URL,
  postgresAvailable,
  TEST_INTEGRATION,
  TEST_KEY,
  TEST_KEY_2,
  tempDir,
  testConfig,
  tokenSet,
} from './helpers.js';

const pgUp = await postgresAvailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BoundedCache', () => {
  it('never holds more than max entries, dropping the least recently set', () => {
    const cache = new BoundedCache<number, string>(3);
    for (let i = 0; i < 1000; i++) cache.set(i, `v${i}`);
    expect(cache.size).toBe(3);
    expect([cache.get(997), cache.get(998), cache.get(999), cache.get(0)]).toEqual(['v997', 'v998', 'v999', undefined]);
    cache.set(997, 'again');
    cache.set(1000, 'v1000');
    expect(cache.get(998)).toBeUndefined();
    expect(cache.get(997)).toBe('again');
    // An entry may hold undefined (reconcile remembers a listing that failed): has() tells it from a missing one.
    const listings = new BoundedCache<string, string | undefined>(2);
    listings.set('failed', undefined);
    expect([listings.has('failed'), listings.has('never')]).toEqual([true, false]);
  });
});

/** A vault on a real SQLite store that counts the two reads of the token path, with one stored connection. */
async function countedVault() {
  const t = tempDir();
  const store = await openSqliteStore(join(t.dir, 'vault.db'));
  const reads = { keys: 0, connections: 0, integrations: 0, history: 0, calls: 0 };
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'findApiKeyByHash') reads.keys++;
      if (name === 'getConnection') reads.connections++;
      if (name === 'getIntegration') reads.integrations++;
      if (name === 'listRefreshHistory') reads.history++;
      if (name === 'listProxyCalls') reads.calls++;
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const vault = await openVault(testConfig({ WEBEX_AUTH_DB: join(t.dir, 'vault.db'), WEBEX_AUTH_KEYS: TEST_KEY }), {
    store: counted,
  });
  const integration = await vault.integrations.upsert(TEST_INTEGRATION);
  const { id } = await vault.connections.saveFromGrant({
    integrationId: integration.id,
    tokens: tokenSet({ accessToken: 'ACCESS-0', refreshToken: 'REFRESH-0' }),
    person: { id: 'p1', emails: ['p1@example.com'], displayName: 'p1' },
    requestedScopes: ['spark:all'],
  });
  reads.keys = 0;
  reads.connections = 0;
  reads.integrations = 0;
  const close = async () => {
    await vault.close();
    await store.close();
    t.cleanup();
  };
  return { vault, store, id, integrationId: integration.id, reads, close };
}

describe('hot-path caches under concurrency', () => {
  it('concurrent requests for an uncached key or connection share one store read', async () => {
    const { vault, id, reads, close } = await countedVault();
    try {
      const { key, record } = await vault.apiKeys.create({ name: 'bot', connectionIds: [id] });
      reads.keys = 0;
      reads.connections = 0;
      const verified = await Promise.all(Array.from({ length: 50 }, () => vault.apiKeys.verify(key)));
      expect(new Set(verified.map((r) => r?.id))).toEqual(new Set([record.id]));
      expect(reads.keys).toBe(1);
      const tokens = await Promise.all(Array.from({ length: 50 }, () => vault.connections.getFreshToken(id)));
      expect(new Set(tokens.map((x) => x.accessToken))).toEqual(new Set(['ACCESS-0']));
      expect(reads.connections).toBe(1);
    } finally {
      await close();
    }
  });

  it('a page reading a connection, its tokens and its cap reads the store once, and again after a write', async () => {
    const { vault, store, id, reads, close } = await countedVault();
    try {
      const connection = await vault.connections.get(id);
      const tokens = await vault.connections.revealTokens(id);
      const cap = await vault.connections.tokenCap(id);
      expect([connection?.id, tokens?.refreshToken, cap?.used]).toEqual([id, 'REFRESH-0', 1]);
      expect(reads.connections).toBe(1);
      // The record is the caller's: changing it does not reach the row the cache shares.
      connection?.scopes.push('changed');
      connection?.person.emails.push('changed@example.com');
      const again = await vault.connections.get(id);
      expect([again?.scopes, again?.person.emails]).toEqual([['spark:all'], ['p1@example.com']]);
      expect(reads.connections).toBe(1);
      // A write (here straight to the store, as another process's would land) is seen by the next read.
      const row = await store.getConnection(id);
      if (!row) throw new Error('no row');
      await store.setStatus(id, 'needs_reauth', 'refresh_refused', Date.now(), row.version, 'refresh_refused');
      reads.connections = 0;
      expect((await vault.connections.get(id))?.status).toBe('needs_reauth');
      expect(reads.connections).toBe(1);
    } finally {
      await close();
    }
  });
});

describe('the connection page’s history and proxy calls', () => {
  it('are read once across views and a browser flow’s writes, and again after a write to their table, here or elsewhere', async () => {
    const { vault, store, id, reads, close } = await countedVault();
    try {
      const page = async () => [await vault.connections.history(id, 50), await vault.proxyCalls?.recent(id, 20)];
      expect(await page()).toEqual([[], []]);
      expect(await page()).toEqual([[], []]);
      expect([reads.history, reads.calls]).toEqual([1, 1]);
      // A flow's writes (a grant, an audit entry) leave both held; the caller's copy is its own.
      (await vault.connections.history(id, 50)).push({} as never);
      await vault.connections.saveFromGrant({
        integrationId: (await vault.connections.get(id))?.integrationId as string,
        tokens: tokenSet({ accessToken: 'ACCESS-1', refreshToken: 'REFRESH-1' }),
        person: { id: 'p1', emails: ['p1@example.com'], displayName: 'p1' },
        requestedScopes: ['spark:all'],
      });
      expect(await page()).toEqual([[], []]);
      expect([reads.history, reads.calls]).toEqual([1, 1]);
      // A refresh's history row written to the store: seen by the next view.
      await store.insertRefreshHistory({
        connectionId: id,
        at: 1,
        kind: 'keepalive',
        outcome: 'success',
        status: 200,
        durationMs: 5,
        error: undefined,
      });
      expect((await vault.connections.history(id, 50)).map((h) => h.kind)).toEqual(['keepalive']);
      expect(reads.history).toBe(2);
      // A proxied call recorded here is written, then read, by the next view.
      vault.proxyCalls?.record({
        connectionId: id,
        method: 'GET',
        template: '/people/me',
        status: 200,
        seconds: 0.01,
        trackingId: undefined,
      });
      expect((await vault.proxyCalls?.recent(id, 20))?.map((c) => c.template)).toEqual(['/people/me']);
      expect(reads.calls).toBe(2);
    } finally {
      await close();
    }
  });
});

describe('the integration cache', () => {
  it('reads an integration once across a browser flow’s writes, and again after any write to integrations', async () => {
    const { vault, store, integrationId, reads, close } = await countedVault();
    try {
      const first = await vault.integrations.get(integrationId);
      expect(first?.redirectUri).toBe(TEST_INTEGRATION.redirectUri);
      // The record is the caller's: changing it does not reach the row the cache shares.
      first?.scopes.push('changed');
      // What a flow writes between its reads of the integration: a session, its rotation, a grant.
      const session = await vault.sessions.create({ data: { step: 1 }, ttlMs: 60_000 });
      await vault.sessions.rotate(session, 60_000);
      await vault.connections.saveFromGrant({
        integrationId,
        tokens: tokenSet({ accessToken: 'ACCESS-1', refreshToken: 'REFRESH-1' }),
        person: { id: 'p2', emails: ['p2@example.com'], displayName: 'p2' },
        requestedScopes: ['spark:all'],
      });
      expect((await vault.integrations.get(integrationId))?.scopes).toEqual(TEST_INTEGRATION.scopes);
      expect((await vault.getIntegrationWithSecret(integrationId))?.clientSecret).toBe(TEST_INTEGRATION.clientSecret);
      expect(reads.integrations).toBe(1);
      // Written here: seen at the next read.
      await vault.integrations.upsert({ ...TEST_INTEGRATION, redirectUri: 'http://localhost:9999/oauth/callback' });
      const before = reads.integrations;
      expect((await vault.integrations.get(integrationId))?.redirectUri).toBe('http://localhost:9999/oauth/callback');
      expect(reads.integrations).toBe(before + 1);
      // Deleted here by a statement the vault never runs (the grants go with it): gone at the next read.
      await (store as unknown as { db: { run(sql: string, p: unknown[]): Promise<number> } }).db.run(
        'DELETE FROM integrations WHERE id = ?',
        [integrationId],
      );
      expect(await vault.integrations.get(integrationId)).toBeUndefined();
      expect(await vault.getIntegrationWithSecret(integrationId)).toBeUndefined();
    } finally {
      await close();
    }
  });
});

describe('hot-path caches without a change stamp', () => {
  it('trust a verified key for the TTL at most, and read connections on every request', async () => {
    const t = tempDir();
    const path = join(t.dir, 'vault.db');
    const store = await openSqliteStore(path);
    // The real store, reporting no change stamp (as PostgreSQL does while its LISTEN connection is down).
    const blind = new Proxy(store, {
      get(target, name, receiver) {
        if (name === 'changeStamp') return undefined;
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    let now = 1_700_000_000_000;
    const config = testConfig({ WEBEX_AUTH_DB: path, WEBEX_AUTH_KEYS: TEST_KEY });
    const a = await openVault(config, { store: blind, clock: () => now });
    const b = await openVault(config, { clock: () => now });
    try {
      const integration = await b.integrations.upsert(TEST_INTEGRATION);
      const { id } = await b.connections.saveFromGrant({
        integrationId: integration.id,
        tokens: tokenSet({ accessToken: 'ACCESS-0', refreshToken: 'REFRESH-0' }, now),
        person: { id: 'p1', emails: ['p1@example.com'], displayName: 'p1' },
        requestedScopes: ['spark:all'],
      });
      const { key, record } = await b.apiKeys.create({ name: 'bot', connectionIds: [id] });
      expect((await a.apiKeys.verify(key))?.id).toBe(record.id);
      expect((await a.connections.getFreshToken(id)).accessToken).toBe('ACCESS-0');
      expect(await b.apiKeys.revoke(record.id)).toBe(true);
      expect(await b.connections.delete(id)).toBe(true);
      await expect(a.connections.getFreshToken(id)).rejects.toMatchObject({ code: 'not_found' });
      expect((await a.apiKeys.verify(key))?.id).toBe(record.id); // the documented bound: up to the 5 s TTL
      now += 5_000;
      expect(await a.apiKeys.verify(key)).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
      await store.close();
      t.cleanup();
    }
  });
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(kind === 'postgres' && !pgUp)(`hot-path caches (${kind})`, () => {
    const closers: Array<() => Promise<void> | void> = [];
    const now = 1_700_000_000_000;
    const webex = fakeWebex();

    afterEach(async () => {
      for (const close of closers.reverse()) await close();
      closers.length = 0;
    });

    /** Two vault instances on one store (as two processes would be), `max` entries per cache. */
    async function twoInstances({
      max,
      keysA = TEST_KEY,
      keysB = TEST_KEY,
    }: {
      max?: number;
      keysA?: string;
      keysB?: string;
    } = {}) {
      let store: Record<string, string>;
      let schema: string | undefined;
      if (kind === 'sqlite') {
        const t = tempDir();
        closers.push(t.cleanup);
        store = { WEBEX_AUTH_DB: join(t.dir, 'vault.db') };
      } else {
        schema = freshSchema('caches');
        closers.push(() => dropSchema(schema as string));
        store = { DATABASE_URL: PG_URL };
      }
      const open = async (instanceId: string, keys: string) => {
        const v = await openVault(testConfig({ ...store, WEBEX_AUTH_KEYS: keys }), {
          fetch: webex.fetch,
          clock: () => now,
          instanceId,
          retryBaseDelayMs: 1,
          ...(schema ? { schema } : {}),
          ...(max ? { tokenCache: { max }, apiKeyCache: { max } } : {}),
        });
        closers.push(() => v.close());
        return v;
      };
      const a = await open('A', keysA);
      const b = await open('B', keysB);
      const integration = await a.integrations.upsert(TEST_INTEGRATION);
      const connect = async (person: string, accessToken: string) =>
        (
          await a.connections.saveFromGrant({
            integrationId: integration.id,
            tokens: tokenSet({ accessToken, refreshToken: `REFRESH-${person}` }, now),
            person: { id: person, emails: [`${person}@example.com`], displayName: person },
            requestedScopes: ['spark:all'],
          })
        ).id;
      return { a, b, connect };
    }

    /**
     * Waits until `vault` has seen a write made elsewhere, that is until `check` holds: checked now, then again each
     * time the change stamp moves. On SQLite the stamp (data_version) is read per call, so the first check sees the
     * write; on PostgreSQL it moves when a trigger's notification arrives, and this instance's own earlier writes notify
     * too, so the first move need not be the other instance's (waiting for one move only was a race). A cache that
     * never sees the write never satisfies `check`, and the test fails by its timeout.
     */
    async function seen(
      vault: VaultInternals,
      check: () => boolean | Promise<boolean>,
      scope: ChangeScope = 'connections',
    ) {
      for (;;) {
        const stamp = vault.store.changeStamp?.(scope);
        if (await check()) return;
        while (vault.store.changeStamp?.(scope) === stamp) await sleep(5);
      }
    }
    /** Whether `promise` rejects with `code`. */
    const rejectsWith = (promise: Promise<unknown>, code: string) =>
      promise.then(
        () => false,
        (error: { code?: string }) => error.code === code,
      );

    it('an API key revoked through this vault stops at once, one revoked by another instance at its next request', async () => {
      const { a, b, connect } = await twoInstances();
      const id = await connect('p1', 'ACCESS-0');
      const one = await a.apiKeys.create({ name: 'one', connectionIds: [id] });
      const two = await a.apiKeys.create({ name: 'two', connectionIds: [id] });
      expect((await a.apiKeys.verify(one.key))?.id).toBe(one.record.id); // now cached in A
      expect((await a.apiKeys.verify(two.key))?.id).toBe(two.record.id);
      expect(await a.apiKeys.revoke(one.record.id)).toBe(true);
      expect(await a.apiKeys.verify(one.key)).toBeUndefined();
      expect(await b.apiKeys.revoke(two.record.id)).toBe(true);
      await seen(a, async () => (await a.apiKeys.verify(two.key)) === undefined, 'apiKeys');
      expect(await a.apiKeys.verify(two.key)).toBeUndefined();
      // Unknown keys are never cached: they stay unknown, and a revoked one does not come back.
      const unknown = `wak_${'A'.repeat(43)}`;
      expect(await a.apiKeys.verify(unknown)).toBeUndefined();
      expect(await a.apiKeys.verify(unknown)).toBeUndefined();
      expect(await a.apiKeys.verify(one.key)).toBeUndefined();
    });

    it('the synchronous cache look-up answers only what verify would, frozen, and stops with a revocation', async () => {
      const { a, b, connect } = await twoInstances();
      const id = await connect('p1', 'ACCESS-0');
      const one = await a.apiKeys.create({ name: 'one', connectionIds: [id] });
      const two = await a.apiKeys.create({ name: 'two', connectionIds: [id] });
      // Not verified yet: nothing cached, so the caller must verify (store read).
      expect(a.apiKeys.cached?.(one.key)).toBeUndefined();
      await a.apiKeys.verify(one.key);
      await a.apiKeys.verify(two.key);
      const held = a.apiKeys.cached?.(one.key);
      if (!held) throw new Error('a verified key should be answered from the cache');
      expect(held).toEqual(await a.apiKeys.verify(one.key));
      // Shared between requests, so nobody can widen it.
      expect(Object.isFrozen(held) && Object.isFrozen(held.connectionIds)).toBe(true);
      expect(() => held.connectionIds.push('conn_other')).toThrow(TypeError);
      expect(held.connectionIds).toEqual([id]);
      // Malformed, unknown, and a near miss of a cached key: never an answer.
      expect(a.apiKeys.cached?.(`${one.key}x`)).toBeUndefined();
      expect(a.apiKeys.cached?.(`${one.key.slice(0, -1)}${one.key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
      expect(a.apiKeys.cached?.(`wak_${'A'.repeat(43)}`)).toBeUndefined();
      // Of the key's length but not of its format (a space, another prefix): never an answer either.
      expect(a.apiKeys.cached?.(`${one.key.slice(0, 20)} ${one.key.slice(21)}`)).toBeUndefined();
      expect(a.apiKeys.cached?.(`WAK_${one.key.slice(4)}`)).toBeUndefined();
      // A revocation here stops it at once; one by another instance as soon as the change stamp moves.
      expect(await a.apiKeys.revoke(one.record.id)).toBe(true);
      expect(a.apiKeys.cached?.(one.key)).toBeUndefined();
      await a.apiKeys.verify(two.key); // cached again under the stamp the revocation moved
      expect(a.apiKeys.cached?.(two.key)?.id).toBe(two.record.id);
      expect(await b.apiKeys.revoke(two.record.id)).toBe(true);
      await seen(a, () => a.apiKeys.cached?.(two.key) === undefined, 'apiKeys');
      expect(a.apiKeys.cached?.(two.key)).toBeUndefined();
    });

    it('the synchronous token look-up answers only what getFreshToken would, frozen, and stops with a change', async () => {
      const { a, b, connect } = await twoInstances();
      const id = await connect('p1', 'ACCESS-0');
      // Not read yet: nothing held, so the caller must take getFreshToken (store read).
      expect(a.connections.cachedFreshToken?.(id, 60)).toBeUndefined();
      const fresh = await a.connections.getFreshToken(id, 60);
      const held = a.connections.cachedFreshToken?.(id, 60);
      if (!held) throw new Error('a token just served should be answered from the cache');
      expect(held).toEqual(fresh);
      // Shared between requests, so nobody can change it.
      expect(Object.isFrozen(held) && Object.isFrozen(held.scopes) && Object.isFrozen(held.person)).toBe(true);
      expect(a.connections.cachedFreshToken?.(id, 60)).toBe(held);
      // Asking for more than the token's whole life (14 days): the same answer as getFreshToken, min_validity unmet.
      const long = a.connections.cachedFreshToken?.(id, 30 * 86_400);
      expect(long?.minValidityMet).toBe(false);
      expect(long).toEqual(await a.connections.getFreshToken(id, 30 * 86_400));
      // Bad input or an unknown connection: never an answer.
      expect(a.connections.cachedFreshToken?.(id, -1)).toBeUndefined();
      expect(a.connections.cachedFreshToken?.('conn_unknown', 60)).toBeUndefined();
      // A needs_reauth by another instance stops it as soon as the change stamp moves.
      await b.connections.markNeedsReauth(id, 'refresh_refused');
      await seen(a, () => a.connections.cachedFreshToken?.(id, 60) === undefined);
      expect(a.connections.cachedFreshToken?.(id, 60)).toBeUndefined();
      await expect(a.connections.getFreshToken(id, 60)).rejects.toMatchObject({ code: 'needs_reauth' });
      expect(a.connections.cachedFreshToken?.(id, 60)).toBeUndefined();
    });

    it('a refresh, needs_reauth or delete made by another instance is seen by the next request', async () => {
      const { a, b, connect } = await twoInstances();
      const id = await connect('p1', 'ACCESS-0');
      expect((await a.connections.getFreshToken(id)).accessToken).toBe('ACCESS-0');
      expect((await a.connections.getFreshToken(id)).accessToken).toBe('ACCESS-0'); // from A's cache

      await b.connections.refresh(id);
      const refreshed = (await b.connections.revealTokens(id))?.accessToken;
      expect(refreshed).toMatch(/^ACCESS-\d+$/);
      expect(refreshed).not.toBe('ACCESS-0');
      await seen(a, async () => (await a.connections.getFreshToken(id)).accessToken === refreshed);
      expect((await a.connections.getFreshToken(id)).accessToken).toBe(refreshed);

      await b.connections.markNeedsReauth(id, 'refresh_refused');
      await seen(a, () => rejectsWith(a.connections.getFreshToken(id), 'needs_reauth'));
      await expect(a.connections.getFreshToken(id)).rejects.toMatchObject({ code: 'needs_reauth' });

      const other = await connect('p2', 'ACCESS-P2');
      expect((await a.connections.getFreshToken(other)).accessToken).toBe('ACCESS-P2');
      expect(await b.connections.delete(other)).toBe(true);
      await seen(a, () => rejectsWith(a.connections.getFreshToken(other), 'not_found'));
      await expect(a.connections.getFreshToken(other)).rejects.toMatchObject({ code: 'not_found' });
    });

    it('changes made through the same instance are seen at once', async () => {
      const { a, connect } = await twoInstances();
      const id = await connect('p1', 'ACCESS-0');
      expect((await a.connections.getFreshToken(id)).accessToken).toBe('ACCESS-0');
      await a.connections.refresh(id);
      const refreshed = (await a.connections.revealTokens(id))?.accessToken;
      expect((await a.connections.getFreshToken(id)).accessToken).toBe(refreshed);
      await a.connections.markNeedsReauth(id);
      await expect(a.connections.getFreshToken(id)).rejects.toMatchObject({ code: 'needs_reauth' });
      const other = await connect('p2', 'ACCESS-P2');
      expect((await a.connections.getFreshToken(other)).accessToken).toBe('ACCESS-P2');
      expect(await a.connections.delete(other)).toBe(true);
      await expect(a.connections.getFreshToken(other)).rejects.toMatchObject({ code: 'not_found' });
    });

    it('a key rotation by another instance (new ciphertext, same token) is served correctly', async () => {
      // A encrypts under key 1 and can read key 2; B rotates every secret to key 2.
      const { a, b, connect } = await twoInstances({
        keysA: `${TEST_KEY},${TEST_KEY_2}`,
        keysB: `${TEST_KEY_2},${TEST_KEY}`,
      });
      const id = await connect('p1', 'ACCESS-0');
      expect((await a.connections.getFreshToken(id)).accessToken).toBe('ACCESS-0');
      const held = a.tokenCache.cachedRow(id)?.keyId;
      expect(await b.rotateKeys()).toMatchObject({ done: 2 });
      const rotated = (await b.store.getConnection(id))?.keyId;
      expect(rotated).not.toBe(held);
      // A serves the token from the rotated row (under key 2, which it can read), once it has seen B's write.
      await seen(a, async () => {
        expect((await a.connections.getFreshToken(id)).accessToken).toBe('ACCESS-0');
        return a.tokenCache.cachedRow(id)?.keyId === rotated;
      });
    });

    it('an integration changed or deleted by another instance is seen by the next read here', async () => {
      const { a, b } = await twoInstances();
      const integration = await a.integrations.upsert(TEST_INTEGRATION);
      expect((await a.getIntegrationWithSecret(integration.id))?.clientSecret).toBe(TEST_INTEGRATION.clientSecret);
      expect((await a.integrations.get(integration.id))?.redirectUri).toBe(TEST_INTEGRATION.redirectUri); // cached
      const changed = { ...TEST_INTEGRATION, redirectUri: 'http://localhost:9999/cb', clientSecret: 'other-secret' };
      expect((await b.integrations.upsert(changed)).id).toBe(integration.id);
      await seen(
        a,
        async () => (await a.integrations.get(integration.id))?.redirectUri === changed.redirectUri,
        'integrations',
      );
      expect((await a.getIntegrationWithSecret(integration.id))?.clientSecret).toBe('other-secret');
      // A delete by a statement another process ran (the Store offers none): the row is gone here too.
      await (b.store as unknown as { db: { run(sql: string, p: unknown[]): Promise<number> } }).db.run(
        'DELETE FROM integrations WHERE id = ?',
        [integration.id],
      );
      await seen(a, async () => (await a.integrations.get(integration.id)) === undefined, 'integrations');
      expect(await a.getIntegrationWithSecret(integration.id)).toBeUndefined();
    });

    it('holds at most `max` connections and keys, and still answers every one correctly', async () => {
      const { a, connect } = await twoInstances({ max: 3 });
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await connect(`p${i}`, `ACCESS-P${i}`));
      for (let round = 0; round < 2; round++) {
        for (const [i, id] of ids.entries()) {
          expect((await a.connections.getFreshToken(id)).accessToken).toBe(`ACCESS-P${i}`);
        }
      }
      expect(a.tokenCache.size.rows).toBeLessThanOrEqual(3);
      expect(a.tokenCache.size.tokens).toBeLessThanOrEqual(3);
      const keys = [];
      for (let i = 0; i < 6; i++)
        keys.push(await a.apiKeys.create({ name: `k${i}`, connectionIds: [ids[0] as string] }));
      for (const k of [...keys, ...keys]) expect((await a.apiKeys.verify(k.key))?.id).toBe(k.record.id);
    });
  });
}

describe.skipIf(!pgUp)('PostgreSQL opened by a one-shot command (watchChanges: false)', () => {
  it('opens no listening connection and trusts no cache: another instance’s delete is seen at once', async () => {
    const schema = freshSchema('oneshot');
    const config = testConfig({ DATABASE_URL: PG_URL, WEBEX_AUTH_KEYS: TEST_KEY });
    const server = await openVault(config, { schema, fetch: fakeWebex().fetch });
    const cli = await openVault(config, { schema, watchChanges: false });
    try {
      expect(server.store.changeStamp?.('connections')).toBeTypeOf('number');
      expect(cli.store.changeStamp?.('connections')).toBeUndefined();
      const integration = await server.integrations.upsert(TEST_INTEGRATION);
      const { id } = await server.connections.saveFromGrant({
        integrationId: integration.id,
        tokens: tokenSet({ accessToken: 'ACCESS-1', refreshToken: 'REFRESH-1' }),
        person: { id: 'p', emails: ['p@example.com'], displayName: 'P' },
        requestedScopes: ['spark:all'],
      });
      expect((await cli.connections.getFreshToken(id, 60)).accessToken).toBe('ACCESS-1');
      await server.connections.delete(id);
      await expect(cli.connections.getFreshToken(id, 60)).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await cli.close();
      await server.close();
      await dropSchema(schema);
    }
  });
});

describe('access tokens held as sealed', () => {
  it('a grant’s token is served without decrypting its very ciphertext, and any other ciphertext is decrypted', async () => {
    const { KeyRing } = await import('../../src/vault/crypto/keyring.js');
    const { TokenCache } = await import('../../src/vault/token-cache.js');
    const ring = new KeyRing(TEST_KEY);
    const slot = { table: 'connections', rowId: 'conn_1', column: 'access_token' };
    const enc = ring.encrypt('ACCESS-1', slot);
    const opens = vi.spyOn(ring, 'decrypt');
    const cache = new TokenCache({} as Store, ring);
    cache.holdSealed('conn_1', enc, 'ACCESS-1');
    const row = { id: 'conn_1', accessTokenEnc: enc } as ConnectionRow;
    expect(cache.accessToken(row)).toBe('ACCESS-1');
    expect(opens).not.toHaveBeenCalled();
    const rotated = ring.encrypt('ACCESS-1', slot);
    expect(cache.accessToken({ ...row, accessTokenEnc: rotated })).toBe('ACCESS-1');
    expect(opens).toHaveBeenCalledTimes(1);
  });
});
