/**
 * The store's connection queries, on SQLite and real PostgreSQL: `findConnections` by owner, status and id list
 * (a list longer than one bound `IN (…)` chunk included), paged oldest first, and `countConnectionsByStatus`.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/vault/store/postgres.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import type { ConnectionRow, Store } from '../../src/vault/store/types.js';
import { dropSchema, freshSchema, integrationRow, PG_URL, postgresAvailable, tempDir } from './helpers.js';

const pgUp = await postgresAvailable();

const idOf = (i: number) => `conn_${String(i).padStart(4, '0')}`;

const row = (i: number, over: Partial<ConnectionRow> = {}): ConnectionRow => ({
  id: idOf(i),
  ownerId: i % 3 === 0 ? 'acct_b' : 'acct_a',
  integrationId: 'int_1',
  personId: `person-${i}`,
  personEmail: `p${i}@example.com`,
  personEmails: [`p${i}@example.com`],
  displayName: `P ${i}`,
  avatar: undefined,
  orgId: 'org-1',
  scopes: ['spark:all'],
  requestedScopes: ['spark:all'],
  status: i % 4 === 0 ? 'needs_reauth' : 'active',
  accessTokenEnc: 'v1:a1',
  refreshTokenEnc: 'v1:r1',
  keyId: 'k1',
  accessExpiresAt: 10_000,
  refreshExpiresAt: 100_000,
  keepaliveDueAt: 1000 + i,
  lastRefreshAt: undefined,
  lastError: undefined,
  version: 1,
  leaseHolder: undefined,
  leaseExpiresAt: undefined,
  // Created in reverse id order, so "oldest first" is not the id order.
  createdAt: 100_000 - i,
  updatedAt: 1000,
  ...over,
});

async function seed(store: Store, n: number): Promise<void> {
  await store.upsertIntegration(integrationRow({ ownerId: 'acct_a' }));
  for (let i = 0; i < n; i++) {
    const { row: stored } = await store.upsertConnection(row(i));
    if (i % 4 === 0) await store.setStatus(stored.id, 'needs_reauth', 'refused', 2000);
  }
}

type Open = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

function suite(name: string, open: Open) {
  describe(`connection queries (${name})`, () => {
    it('finds by owner, status and ids, oldest first and paged, and counts by status', async () => {
      const { store, cleanup } = await open();
      try {
        const n = 12;
        await seed(store, n);
        const all = Array.from({ length: n }, (_, i) => i);
        // Oldest first: the highest index was created first.
        const oldest = (is: number[]) => is.sort((a, b) => b - a).map(idOf);
        const ids = async (rows: Promise<ConnectionRow[]>) => (await rows).map((r) => r.id);

        expect(await ids(store.findConnections({}))).toEqual(oldest([...all]));
        expect(await ids(store.findConnections({ ownerId: 'acct_b' }))).toEqual(oldest(all.filter((i) => i % 3 === 0)));
        expect(await ids(store.findConnections({ status: 'needs_reauth' }))).toEqual(
          oldest(all.filter((i) => i % 4 === 0)),
        );
        expect(await ids(store.findConnections({ status: 'needs_reauth', ownerId: 'acct_a' }))).toEqual(
          oldest(all.filter((i) => i % 4 === 0 && i % 3 !== 0)),
        );
        expect(await ids(store.findConnections({ ids: [idOf(2), idOf(7), 'conn_missing'] }))).toEqual([
          idOf(7),
          idOf(2),
        ]);
        expect(await store.findConnections({ ids: [] })).toEqual([]);
        // Pages: 5 + 5 + 2, together every row once in order; an offset past the end is empty.
        const pages = [
          await ids(store.findConnections({ limit: 5 })),
          await ids(store.findConnections({ limit: 5, offset: 5 })),
          await ids(store.findConnections({ limit: 5, offset: 10 })),
        ];
        expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
        expect(pages.flat()).toEqual(oldest([...all]));
        expect(await store.findConnections({ limit: 5, offset: 50 })).toEqual([]);
        expect(await ids(store.findConnections({ offset: 10 }))).toEqual(oldest([...all]).slice(10));

        expect(await store.countConnectionsByStatus()).toEqual({ active: 9, needs_reauth: 3 });
        await store.deleteConnection(idOf(0));
        expect(await store.countConnectionsByStatus()).toEqual({ active: 9, needs_reauth: 2 });
      } finally {
        await cleanup();
      }
    });

    it('finds by an id list longer than one bound chunk, in order and paged', async () => {
      const { store, cleanup } = await open();
      try {
        const n = 505;
        await seed(store, n);
        const wanted = Array.from({ length: n }, (_, i) => i).filter((i) => i !== 3);
        const list = [...wanted.map(idOf), 'conn_missing'];
        const found = (await store.findConnections({ ids: list })).map((r) => r.id);
        expect(found).toEqual([...wanted].sort((a, b) => b - a).map(idOf));
        const page = (await store.findConnections({ ids: list, status: 'active', limit: 3, offset: 1 })).map(
          (r) => r.id,
        );
        expect(page).toEqual(
          wanted
            .filter((i) => i % 4 !== 0)
            .sort((a, b) => b - a)
            .slice(1, 4)
            .map(idOf),
        );
        expect(await store.countConnectionsByStatus()).toEqual({ active: 378, needs_reauth: 127 });
      } finally {
        await cleanup();
      }
    });
  });
}

suite('SQLite', async () => {
  const { dir, cleanup } = tempDir();
  const store = await openSqliteStore(join(dir, 'vault.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      cleanup();
    },
  };
});

describe.skipIf(!pgUp)('PostgreSQL', () => {
  suite('PostgreSQL', async () => {
    const schema = freshSchema('queries');
    const store = await openPostgresStore(PG_URL, { schema });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropSchema(schema);
      },
    };
  });
});
