/**
 * The one conformance suite of the `Store` interface, run on SQLite (temp dir) and PostgreSQL (fresh schema).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/vault/store/postgres.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import type { ConnectionRow, IntegrationRow, Store, TokenWrite } from '../../src/vault/store/types.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, tempDir } from './helpers.js';

const pgUp = await postgresAvailable();

const integration = (over: Partial<IntegrationRow> = {}): IntegrationRow => ({
  id: 'int_1',
  clientId: 'C1',
  apiBase: 'https://webexapis.com/v1',
  redirectUri: 'http://localhost:8080/oauth',
  scopes: ['spark:all'],
  secretEnc: 'v1:enc-secret',
  keyId: 'k1',
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
});

const connection = (over: Partial<ConnectionRow> = {}): ConnectionRow => ({
  id: 'conn_1',
  integrationId: 'int_1',
  personId: 'person-1',
  personEmail: 'alice@example.com',
  personEmails: ['alice@example.com'],
  displayName: 'Alice',
  avatar: undefined,
  orgId: 'org-1',
  scopes: ['spark:all'],
  requestedScopes: ['spark:all'],
  status: 'active',
  accessTokenEnc: 'v1:a1',
  refreshTokenEnc: 'v1:r1',
  keyId: 'k1',
  accessExpiresAt: 10_000,
  refreshExpiresAt: 100_000,
  keepaliveDueAt: 50_000,
  lastRefreshAt: undefined,
  lastError: undefined,
  version: 1,
  leaseHolder: undefined,
  leaseExpiresAt: undefined,
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
});

const write = (over: Partial<TokenWrite> = {}): TokenWrite => ({
  accessTokenEnc: 'v1:a2',
  refreshTokenEnc: 'v1:r2',
  keyId: 'k1',
  accessExpiresAt: 20_000,
  refreshExpiresAt: 200_000,
  keepaliveDueAt: 150_000,
  scopes: ['spark:all'],
  lastRefreshAt: 5000,
  updatedAt: 5000,
  ...over,
});

function conformance(
  name: string,
  open: () => Promise<{ store: Store; reopen: () => Promise<Store>; cleanup: () => Promise<void> }>,
) {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let reopen: () => Promise<Store>;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, reopen, cleanup } = await open());
      await store.upsertIntegration(integration());
    });
    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    it('applies migrations once and records them', async () => {
      expect(await store.migrate()).toEqual([]);
      const again = await reopen();
      expect(await again.migrate()).toEqual([]);
      await again.close();
    });

    it('upserts an integration by (clientId, apiBase), keeping its id', async () => {
      const stored = await store.upsertIntegration(
        integration({ id: 'int_other', secretEnc: 'v1:new', scopes: ['a', 'b'] }),
      );
      expect(stored.id).toBe('int_1');
      expect(stored.secretEnc).toBe('v1:new');
      expect(stored.scopes).toEqual(['a', 'b']);
      expect((await store.findIntegration('C1', 'https://webexapis.com/v1'))?.id).toBe('int_1');
      expect(await store.findIntegration('C1', 'https://api-usgov.webex.com/v1')).toBeUndefined();
      expect(await store.getIntegration('nope')).toBeUndefined();
      expect((await store.listIntegrations()).map((i) => i.id)).toEqual(['int_1']);
    });

    it('upserts a connection by (integration, person): the second grant updates it', async () => {
      const first = await store.upsertConnection(connection());
      expect(first.created).toBe(true);
      expect(first.row.version).toBe(1);
      expect(first.row.avatar).toBeUndefined();
      const second = await store.upsertConnection(
        connection({ id: 'conn_dup', accessTokenEnc: 'v1:a9', displayName: 'Alice E.' }),
      );
      expect(second.created).toBe(false);
      expect(second.row.id).toBe('conn_1');
      expect(second.row.version).toBe(2);
      expect(second.row.accessTokenEnc).toBe('v1:a9');
      expect(second.row.displayName).toBe('Alice E.');
      expect(second.row.createdAt).toBe(1000);
      expect((await store.findConnection('int_1', 'person-1'))?.id).toBe('conn_1');
      expect(await store.listConnections()).toHaveLength(1);
    });

    it('grants the lease to one holder at a time; an expired lease can be taken over', async () => {
      const a = await store.acquireLease('conn_1', 'A', 2000, 1000);
      expect(a?.leaseHolder).toBe('A');
      expect(await store.acquireLease('conn_1', 'B', 2500, 1500)).toBeUndefined();
      expect((await store.acquireLease('conn_1', 'A', 3000, 1500))?.leaseExpiresAt).toBe(3000);
      const b = await store.acquireLease('conn_1', 'B', 9000, 3000);
      expect(b?.leaseHolder).toBe('B');
      await store.releaseLease('conn_1', 'A'); // not A's any more: no effect
      expect((await store.getConnection('conn_1'))?.leaseHolder).toBe('B');
      await store.releaseLease('conn_1', 'B');
      expect((await store.getConnection('conn_1'))?.leaseHolder).toBeUndefined();
    });

    it('lets exactly one of many concurrent acquirers win', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.acquireLease('conn_1', `H${i}`, 10_000, 5000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.find(Boolean)?.leaseHolder as string;
      await store.releaseLease('conn_1', winner);
    });

    it('writes tokens only with the expected version and the lease (fencing)', async () => {
      const row = (await store.getConnection('conn_1')) as ConnectionRow;
      expect(await store.writeTokens('conn_1', row.version, 'A', write())).toBe(false); // no lease
      await store.acquireLease('conn_1', 'A', 2000, 1000);
      // A's lease expires; B takes over and writes first.
      await store.acquireLease('conn_1', 'B', 9000, 3000);
      expect(await store.writeTokens('conn_1', row.version, 'B', write())).toBe(true);
      // A (stale) is refused even after re-leasing, because the version moved.
      await store.acquireLease('conn_1', 'A', 20_000, 10_000);
      expect(await store.writeTokens('conn_1', row.version, 'A', write({ accessTokenEnc: 'v1:stale' }))).toBe(false);
      await store.releaseLease('conn_1', 'A');
      const after = (await store.getConnection('conn_1')) as ConnectionRow;
      expect(after.version).toBe(row.version + 1);
      expect(after.accessTokenEnc).toBe('v1:a2');
      expect(after.refreshTokenEnc).toBe('v1:r2');
      expect(after.lastRefreshAt).toBe(5000);
      expect(after.keepaliveDueAt).toBe(150_000);
      expect(after.leaseHolder).toBeUndefined();
    });

    it('sets status with an optional version check, and records errors without touching the version', async () => {
      const row = (await store.getConnection('conn_1')) as ConnectionRow;
      expect(await store.setStatus('conn_1', 'needs_reauth', 'invalid_grant', 6000, row.version - 1)).toBe(false);
      await store.acquireLease('conn_1', 'A', 99_000, 6000);
      await store.recordError('conn_1', 'A', 'upstream_unavailable', 6000);
      const errored = (await store.getConnection('conn_1')) as ConnectionRow;
      expect(errored.lastError).toBe('upstream_unavailable');
      expect(errored.version).toBe(row.version);
      expect(errored.leaseHolder).toBeUndefined();
      expect(await store.setStatus('conn_1', 'needs_reauth', 'invalid_grant', 6000, row.version)).toBe(true);
      const marked = (await store.getConnection('conn_1')) as ConnectionRow;
      expect(marked.status).toBe('needs_reauth');
      expect(marked.keepaliveDueAt).toBeUndefined();
      expect(await store.dueForKeepAlive(Number.MAX_SAFE_INTEGER, 10)).toHaveLength(0);
      // Authorizing again makes it active.
      const again = await store.upsertConnection(connection({ id: 'x' }));
      expect(again.row.status).toBe('active');
      expect(again.row.lastError).toBeUndefined();
    });

    it('returns only due, active connections, earliest first, bounded', async () => {
      for (let i = 0; i < 5; i++) {
        await store.upsertConnection(
          connection({ id: `conn_due${i}`, personId: `p${i}`, keepaliveDueAt: 1000 * (5 - i) }),
        );
      }
      const due = await store.dueForKeepAlive(3500, 2);
      expect(due.map((r) => r.id)).toEqual(['conn_due4', 'conn_due3']);
      expect((await store.dueForKeepAlive(3500, 10)).map((r) => r.id)).toEqual(['conn_due4', 'conn_due3', 'conn_due2']);
    });

    it('re-encrypts by key id, refusing while a live lease is held', async () => {
      expect(await store.countNotUnderKey('k2')).toBe((await store.listConnections()).length + 1);
      const batch = await store.rowsNotUnderKey('k2', 3);
      expect(batch.integrations).toHaveLength(1);
      expect(batch.connections).toHaveLength(3);
      const i = batch.integrations[0] as IntegrationRow;
      expect(await store.reencryptIntegration(i.id, 'v1:wrong', 'v1:s2', 'k2')).toBe(false);
      expect(await store.reencryptIntegration(i.id, i.secretEnc, 'v1:s2', 'k2')).toBe(true);
      const c = (await store.getConnection('conn_due0')) as ConnectionRow;
      await store.acquireLease(c.id, 'L', 50_000, 1000);
      const enc = { accessTokenEnc: 'v1:x', refreshTokenEnc: 'v1:y', keyId: 'k2' };
      expect(await store.reencryptConnection(c.id, c.version, 2000, enc)).toBe(false);
      expect(await store.reencryptConnection(c.id, c.version, 60_000, enc)).toBe(true); // lease expired
      const after = (await store.getConnection(c.id)) as ConnectionRow;
      expect(after.version).toBe(c.version);
      expect(after.keyId).toBe('k2');
    });

    it('stores API keys by hash, lists and revokes them', async () => {
      await store.insertApiKey({
        id: 'key_1',
        name: 'bot',
        keyHash: 'ab'.repeat(32),
        prefix: 'wak_abcd',
        connectionIds: ['conn_1'],
        createdAt: 1,
        lastUsedAt: undefined,
        revokedAt: undefined,
      });
      expect((await store.findApiKeyByHash('ab'.repeat(32)))?.connectionIds).toEqual(['conn_1']);
      await store.touchApiKey('key_1', 77);
      expect((await store.listApiKeys())[0]?.lastUsedAt).toBe(77);
      expect(await store.revokeApiKey('key_1', 80)).toBe(true);
      expect(await store.revokeApiKey('key_1', 81)).toBe(false);
      expect(await store.findApiKeyByHash('ab'.repeat(32))).toBeUndefined();
      expect(await store.listApiKeys()).toHaveLength(0);
    });

    it('grants a named lease to one instance at a time', async () => {
      const got = await Promise.all(['I1', 'I2', 'I3'].map((h) => store.acquireNamedLease('sweep', h, 2000, 1000)));
      expect(got.filter(Boolean)).toHaveLength(1);
      const holder = ['I1', 'I2', 'I3'][got.indexOf(true)] as string;
      const other = holder === 'I1' ? 'I2' : 'I1';
      expect(await store.acquireNamedLease('sweep', other, 2500, 1500)).toBe(false);
      expect(await store.acquireNamedLease('sweep', other, 5000, 2000)).toBe(true); // expired
      await store.releaseNamedLease('sweep', other);
      expect(await store.acquireNamedLease('sweep', holder, 9000, 2100)).toBe(true);
      await store.releaseNamedLease('sweep', holder);
    });

    it('deletes a connection', async () => {
      expect(await store.deleteConnection('conn_due1')).toBe(true);
      expect(await store.deleteConnection('conn_due1')).toBe(false);
      expect(await store.getConnection('conn_due1')).toBeUndefined();
    });
  });
}

conformance('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'vault.db');
  return { store: await openSqliteStore(path), reopen: () => openSqliteStore(path), cleanup: async () => cleanup() };
});

describe.skipIf(!pgUp)('postgres', () => {
  conformance('postgres', async () => {
    const schema = freshSchema('conformance');
    return {
      store: await openPostgresStore(PG_URL, { schema }),
      reopen: () => openPostgresStore(PG_URL, { schema }),
      cleanup: () => dropSchema(schema),
    };
  });
});
