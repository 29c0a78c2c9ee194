/**
 * The store side of a shared keep-alive sweep, on SQLite (two stores on one file) and PostgreSQL (two stores on one
 * schema): concurrent claims take disjoint rows, rows backing off are neither due nor claimed, a failed refresh makes
 * its next attempt the row's due time, and Service Apps are listed by kind. Also the sweep's pacer.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pacer } from '../../src/vault/keepalive.js';
import { openPostgresStore } from '../../src/vault/store/postgres.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import type { ConnectionRow, Store } from '../../src/vault/store/types.js';
import {
  connectionRow,
  dropSchema,
  freshSchema,
  integrationRow,
  PG_URL,
  postgresAvailable,
  tempDir,
} from './helpers.js';

const pgUp = await postgresAvailable();

const row = (i: number, over: Partial<ConnectionRow> = {}): ConnectionRow =>
  connectionRow({
    id: `conn_${String(i).padStart(3, '0')}`,
    personId: `person-${i}`,
    personEmail: `p${i}@example.com`,
    personEmails: [`p${i}@example.com`],
    displayName: `P ${i}`,
    keepaliveDueAt: 1000 + i,
    createdAt: 1000 + i,
    ...over,
  });

async function seed(store: Store, n: number, over: (i: number) => Partial<ConnectionRow> = () => ({})): Promise<void> {
  await store.upsertIntegration(integrationRow());
  for (let i = 0; i < n; i++) await store.upsertConnection(row(i, over(i)));
}

type Open = () => Promise<{ a: Store; b: Store; cleanup: () => Promise<void> }>;

function suite(name: string, open: Open) {
  describe(`keep-alive claims (${name})`, () => {
    it('gives two instances disjoint rows, every due row once, under each claimer’s lease', async () => {
      const { a, b, cleanup } = await open();
      try {
        await seed(a, 40, (i) => (i >= 30 ? { keepaliveDueAt: 900_000 } : {}));
        const now = 50_000;
        const claimed: Record<string, string[]> = { a: [], b: [] };
        const claimAll = async (store: Store, who: 'a' | 'b') => {
          for (;;) {
            const rows = await store.claimDueForKeepAlive(now, 3, who, now + 60_000);
            if (rows.length === 0) return;
            expect(rows.every((r) => r.leaseHolder === who && r.leaseExpiresAt === now + 60_000)).toBe(true);
            claimed[who]?.push(...rows.map((r) => r.id));
          }
        };
        await Promise.all([claimAll(a, 'a'), claimAll(b, 'b'), claimAll(a, 'a'), claimAll(b, 'b')]);
        const all = [...(claimed.a ?? []), ...(claimed.b ?? [])];
        expect(all).toHaveLength(30);
        expect(new Set(all).size).toBe(30);
        expect(all.every((id) => Number(id.slice(5)) < 30)).toBe(true);
        // A lease ended: claimable again (a crashed instance's claim does not strand its rows).
        expect(await a.claimDueForKeepAlive(now + 60_000, 100, 'c', now + 120_000)).toHaveLength(30);
      } finally {
        await cleanup();
      }
    });

    it('skips rows backing off, and a failed refresh makes its next attempt the due time', async () => {
      const { a, cleanup } = await open();
      try {
        // 10 rows at the head of the due order fail; 5 later rows are fine.
        await seed(a, 15, (i) => ({ keepaliveDueAt: 1000 + i, refreshExpiresAt: 10_000_000 }));
        const now = 5000;
        for (let i = 0; i < 10; i++) {
          expect(
            await a.recordRefreshFailure(row(i).id, 'x', {
              lastError: 'upstream_unavailable',
              status: 503,
              now,
              nextAttemptAt: now + 30_000,
            }),
          ).toMatchObject({ failures: 1 });
        }
        const failing = await a.getConnection(row(0).id);
        expect(failing).toMatchObject({ keepaliveDueAt: now + 30_000, refreshNextAttemptAt: now + 30_000 });
        // Even with a batch smaller than the failing head, the others are due and claimed.
        expect((await a.dueForKeepAlive(now, 3)).map((r) => r.id)).toEqual([row(10).id, row(11).id, row(12).id]);
        const claimed = await a.claimDueForKeepAlive(now, 3, 'a', now + 60_000);
        expect(claimed.map((r) => r.id)).toEqual([row(10).id, row(11).id, row(12).id]);
        // At the next attempt the failing rows are due again, on their own.
        const later = await a.claimDueForKeepAlive(now + 30_000, 100, 'a', now + 90_000);
        expect(later.map((r) => r.id).sort()).toEqual([
          ...Array.from({ length: 10 }, (_, i) => row(i).id),
          row(13).id,
          row(14).id,
        ]);
      } finally {
        await cleanup();
      }
    });

    it('lists connections by kind', async () => {
      const { a, cleanup } = await open();
      try {
        await seed(a, 5, (i) =>
          i < 2 ? { kind: 'service_app', appId: `app-${i}`, fetcherConnectionId: 'conn_004' } : {},
        );
        expect((await a.listConnectionsByKind('service_app')).map((r) => r.id)).toEqual(['conn_000', 'conn_001']);
        expect((await a.listConnectionsByKind('integration')).map((r) => r.id)).toEqual([
          'conn_002',
          'conn_003',
          'conn_004',
        ]);
        expect(await a.listConnectionsByKind('bot')).toEqual([]);
      } finally {
        await cleanup();
      }
    });
  });
}

suite('SQLite', async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'vault.db');
  const a = await openSqliteStore(path);
  const b = await openSqliteStore(path);
  return {
    a,
    b,
    cleanup: async () => {
      await a.close();
      await b.close();
      cleanup();
    },
  };
});

describe.skipIf(!pgUp)('PostgreSQL', () => {
  suite('PostgreSQL', async () => {
    const schema = freshSchema('claim');
    const a = await openPostgresStore(PG_URL, { schema });
    const b = await openPostgresStore(PG_URL, { schema });
    return {
      a,
      b,
      cleanup: async () => {
        await a.close();
        await b.close();
        await dropSchema(schema);
      },
    };
  });
});

describe('the keep-alive pacer', () => {
  it('books starts `rate` per second apart on the given clock, without catching up', () => {
    const pacer = new Pacer(2);
    // Four workers asking at once at t = 0: starts at 0, 500, 1000, 1500 ms.
    expect([0, 0, 0, 0].map((t) => pacer.reserve(t))).toEqual([0, 500, 1000, 1500]);
    // Asked at 1600 ms: the next start is at 2000.
    expect(pacer.reserve(1600)).toBe(400);
    // Idle for a while: no burst to make up for it.
    expect([10_000, 10_000].map((t) => pacer.reserve(t))).toEqual([0, 500]);
  });
});
