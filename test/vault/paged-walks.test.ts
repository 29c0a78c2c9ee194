/**
 * Walks over every connection with bounded memory, on SQLite and PostgreSQL: the store's paged and targeted reads
 * (`pageConnections`, `connectionsWithScopes`, `latestConnections`), and reconciliation and "Revoke at Webex" over
 * them — a run over several pages gives the result one pass over the whole list gave, renews its lease as it goes
 * (another instance cannot take it mid-run), and stops when the lease is lost. Webex is a fake `fetch`.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../src/oauth/types.js';
import { type ReconcileDeps, reconcile, revokeAtWebex } from '../../src/vault/reconcile.js';
import type { Refresher } from '../../src/vault/refresher.js';
import { openPostgresStore } from '../../src/vault/store/postgres.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import type { ConnectionRow, Store } from '../../src/vault/store/types.js';
import { VaultError } from '../../src/vault/types.js';
import type { WebhookSender } from '../../src/vault/webhooks.js';
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
const API = 'https://webex.test/v1';
const ADMIN_SCOPES = ['spark:all', 'identity:tokens_read', 'identity:tokens_write'];
const MINUTE = 60_000;

/**
 * The store of one test, read through a wrapper that refuses a listing of every connection and counts the pages read:
 * a walk that still lists everything fails.
 */
function guarded(store: Store): { store: Store; pages: () => number } {
  let pages = 0;
  const wrapper = new Proxy(store, {
    get(target, key) {
      if (key === 'listConnections') {
        return (ownerId?: string) =>
          ownerId === undefined
            ? Promise.reject(new Error('every connection listed'))
            : target.listConnections(ownerId);
      }
      if (key === 'pageConnections') {
        return (page: Parameters<Store['pageConnections']>[0]) => {
          pages++;
          return target.pageConnections(page);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: wrapper, pages: () => pages };
}

/**
 * Seeds, by id order: an org-1 admin (a0), six org-1 people (b1…b6), one needs_reauth row (c7), a bot (d8) and an
 * org-2 person (e9), all of integration `int_1` at {@link API}.
 */
async function seed(store: Store): Promise<void> {
  await store.upsertIntegration(integrationRow({ apiBase: API }));
  const row = (id: string, over: Partial<ConnectionRow> = {}) =>
    store.upsertConnection(
      connectionRow({
        id,
        personId: `p-${id}`,
        personEmail: `${id}@example.com`,
        accessExpiresAt: 1e15,
        createdAt: 1000,
        updatedAt: 1000,
        ...over,
      }),
    );
  await row('a0', { scopes: ADMIN_SCOPES });
  for (let i = 1; i <= 6; i++) await row(`b${i}`, { scopes: ['spark:people_read'] });
  await row('c7');
  // An upsert stores a row active: the status is set as a refused refresh would.
  await store.setStatus('c7', 'needs_reauth', 'refused', 1000);
  await row('d8', { kind: 'bot' });
  await row('e9', { orgId: 'org-2' });
}

/**
 * A fake Webex: people/me answers the org of the token's connection (e9's token is refused, b5's probe meets a 503);
 * the org-1 admin's listing shows every person's grant of client C1 except b3's; grants can be deleted. Each probe
 * advances the clock by four minutes, so that a run over nine rows outlives the ten-minute lease; `onProbe` runs
 * before it.
 */
function fakeWebex(clock: { now: number }, onProbe: (id: string) => Promise<void> = async () => {}) {
  const probed: string[] = [];
  const deleted: string[] = [];
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(String(input));
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const token = String(headers.authorization).replace('Bearer tok-', '');
    if (url.pathname === '/v1/people/me') {
      probed.push(token);
      await onProbe(token);
      clock.now += 4 * MINUTE;
      if (token === 'e9') return new Response('{}', { status: 401 });
      if (token === 'b5') return new Response('{}', { status: 503 });
      return Response.json({ id: `p-${token}`, orgId: 'org-1' });
    }
    if (url.pathname === '/v1/authorizations' && token === 'a0') {
      const person = url.searchParams.get('personId') ?? '';
      const items = person === 'p-b3' ? [] : [{ id: `g-${person}`, clientId: 'C1', type: 'refresh' }];
      return Response.json({ items });
    }
    if (url.pathname.startsWith('/v1/authorizations/') && init?.method === 'DELETE' && token === 'a0') {
      deleted.push(decodeURIComponent(url.pathname.slice('/v1/authorizations/'.length)));
      return new Response(null, { status: 204 });
    }
    return new Response('{}', { status: 403 });
  };
  return { fetch, probed, deleted };
}

/** Reconciliation's dependencies over `store` and the fake Webex; e9's refresh is refused. */
function depsOf(store: Store, clock: { now: number }, fetch: FetchLike, batchSize?: number): ReconcileDeps {
  const refresher = {
    async force(id: string) {
      if (id === 'e9') throw new VaultError('needs_reauth', 'refused');
      return (await store.getConnection(id)) as ConnectionRow;
    },
  } as unknown as Refresher;
  return {
    store,
    refresher,
    clock: () => clock.now,
    fetch,
    logger: undefined,
    webhooks: { send() {} } as unknown as WebhookSender,
    instanceId: 'me',
    accessToken: (row) => `tok-${row.id}`,
    freshToken: async (id) => `tok-${id}`,
    markNeedsReauth: (id, reason) => store.setStatus(id, 'needs_reauth', reason, clock.now, undefined, reason),
    forget() {},
    batchSize,
  };
}

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
])('paged walks over the connections (%s)', (_name, postgres) => {
  const closers: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function open(): Promise<Store> {
    let store: Store;
    if (postgres) {
      const schema = freshSchema('paged');
      closers.push(() => dropSchema(schema));
      store = await openPostgresStore(PG_URL, { schema });
    } else {
      const t = tempDir();
      closers.push(t.cleanup);
      store = await openSqliteStore(join(t.dir, 'v.db'));
    }
    closers.push(() => store.close());
    await seed(store);
    return store;
  }

  it.skipIf(postgres && !pgUp)(
    'pages in id order with filters; finds admins by scope; the latest of an owner',
    async () => {
      const store = await open();
      const ids = async (page: Parameters<Store['pageConnections']>[0]) =>
        (await store.pageConnections(page)).map((r) => r.id);
      expect(await ids({ after: undefined, limit: 4 })).toEqual(['a0', 'b1', 'b2', 'b3']);
      expect(await ids({ after: 'b3', limit: 4 })).toEqual(['b4', 'b5', 'b6', 'c7']);
      expect(await ids({ after: 'c7', limit: 4 })).toEqual(['d8', 'e9']);
      expect(await ids({ after: 'b5', limit: 10, status: 'active', kind: 'integration' })).toEqual(['b6', 'e9']);
      expect(await ids({ after: undefined, limit: 10, kind: 'bot' })).toEqual(['d8']);
      expect(await ids({ after: undefined, limit: 10, status: 'needs_reauth' })).toEqual(['c7']);

      // `_` is no wildcard here (escaped), and a scope differing there is not an admin's either way.
      await store.upsertConnection(
        connectionRow({ id: 'f1', personId: 'p-f1', scopes: ['identity:tokensXread', 'identity:tokens_write'] }),
      );
      // A scope whose JSON form holds escapes (a backslash, a quote) or LIKE's own characters is still found.
      const odd = ['x:a\\b', 'x:"q"', 'x:50%_!'];
      await store.upsertConnection(connectionRow({ id: 'h1', personId: 'p-h1', scopes: odd }));
      expect((await store.connectionsWithScopes(odd, 'active')).map((r) => r.id)).toEqual(['h1']);
      await store.upsertConnection(connectionRow({ id: 'f2', personId: 'p-f2', scopes: ['identity:tokens_read'] }));
      const withScopes = async (scopes: string[], status: ConnectionRow['status']) =>
        (await store.connectionsWithScopes(scopes, status)).map((r) => r.id);
      expect(await withScopes(['identity:tokens_read'], 'active')).toEqual(['a0', 'f2']);
      expect(await withScopes(['identity:tokens_write', 'identity:tokens_read'], 'active')).toEqual(['a0']);
      expect(await withScopes(['identity:tokens_read'], 'needs_reauth')).toEqual([]);

      await store.upsertConnection(connectionRow({ id: 'g1', personId: 'p-g1', ownerId: 'acct_x', updatedAt: 9000 }));
      await store.upsertConnection(connectionRow({ id: 'g2', personId: 'p-g2', updatedAt: 5000, createdAt: 900 }));
      await store.upsertConnection(connectionRow({ id: 'g3', personId: 'p-g3', updatedAt: 5000, createdAt: 800 }));
      // Most recently updated first; a tie goes oldest first, as in the full listing.
      expect((await store.latestConnections('local', 2)).map((r) => r.id)).toEqual(['g3', 'g2']);
      expect((await store.latestConnections('acct_x', 2)).map((r) => r.id)).toEqual(['g1']);
    },
  );

  it.skipIf(postgres && !pgUp)(
    'reconcile over three pages gives the one-pass result and keeps its lease against another instance',
    async () => {
      const { store, pages } = guarded(await open());
      const clock = { now: 1_000_000 };
      let taken: boolean | undefined;
      const webex = fakeWebex(clock, async (id) => {
        // Another instance tries, as its schedule would, while this run probes its last connection, 28 minutes in.
        if (id === 'e9')
          taken = await store.acquireNamedLease('reconcile', 'other', clock.now + 10 * MINUTE, clock.now);
      });
      const result = await reconcile(depsOf(store, clock, webex.fetch, 3));
      // What the single pass over every connection found: a0, b1…b6 and e9 checked (not the needs_reauth row, nor the
      // bot); b3's grant gone at Webex; e9's refresh refused; b5 unknown (503).
      expect(result).toEqual({
        ran: true,
        checked: 8,
        revoked: [
          { connectionId: 'b3', reason: 'revoked_at_webex' },
          { connectionId: 'e9', reason: 'refresh_refused' },
        ],
        unknown: 1,
      });
      // Each connection probed once (the admin's probe reused), over three pages of at most three.
      expect(webex.probed).toEqual(['a0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'e9']);
      expect(pages()).toBe(3);
      expect(taken).toBe(false);
      expect(await store.getConnection('b3')).toMatchObject({
        status: 'needs_reauth',
        needsReauthReason: 'revoked_at_webex',
      });
      // The lease is released at the end.
      expect(await store.acquireNamedLease('reconcile', 'other', clock.now + MINUTE, clock.now)).toBe(true);
    },
  );

  it.skipIf(postgres && !pgUp)('reconcile stops at the next page once another instance took its lease', async () => {
    const { store } = guarded(await open());
    const clock = { now: 1_000_000 };
    const webex = fakeWebex(clock, async (id) => {
      // The lease lapsed (a stalled instance) and another took it.
      if (id === 'b2') {
        await store.releaseNamedLease('reconcile', 'me');
        expect(await store.acquireNamedLease('reconcile', 'other', clock.now + 10 * MINUTE, clock.now)).toBe(true);
      }
    });
    const result = await reconcile(depsOf(store, clock, webex.fetch, 3));
    expect(result).toEqual({ ran: true, stopped: true, checked: 3, revoked: [], unknown: 0 });
    expect(webex.probed).toEqual(['a0', 'b1', 'b2']);
    // The other instance's lease is left alone.
    expect(await store.acquireNamedLease('reconcile', 'third', clock.now + MINUTE, clock.now)).toBe(false);
  });

  it.skipIf(postgres && !pgUp)('keeps its lease while one connection takes longer than the lease term', async () => {
    const { store } = guarded(await open());
    const clock = { now: 1_000_000 };
    let takenMidCheck: boolean | undefined;
    const webex = fakeWebex(clock, async (id) => {
      // b2's checks stall past the lease's ten minutes (slow probes and time-outs); the background renewal runs
      // meanwhile, so another instance still cannot take the lease.
      if (id === 'b2') {
        clock.now += 11 * MINUTE;
        await new Promise((r) => setTimeout(r, 100));
        takenMidCheck = await store.acquireNamedLease('reconcile', 'other', clock.now + 10 * MINUTE, clock.now);
      }
    });
    const result = await reconcile({ ...depsOf(store, clock, webex.fetch, 100), leaseHeartbeatMs: 5 });
    expect(takenMidCheck).toBe(false);
    expect(result).toMatchObject({ ran: true, checked: 8 });
    expect(result.stopped).toBeUndefined();
  });

  it.skipIf(postgres && !pgUp)(
    'Revoke at Webex finds the admin connection without listing every connection',
    async () => {
      const { store } = guarded(await open());
      const clock = { now: 1_000_000 };
      const webex = fakeWebex(clock);
      expect(await revokeAtWebex(depsOf(store, clock, webex.fetch), 'b1')).toEqual({ deleted: 1 });
      expect(webex.deleted).toEqual(['g-p-b1']);
      expect(await store.getConnection('b1')).toMatchObject({
        status: 'needs_reauth',
        needsReauthReason: 'revoked_at_webex',
      });
      // e9's org has no admin connection: what is missing is named, as before.
      await expect(revokeAtWebex(depsOf(store, clock, webex.fetch), 'e9')).rejects.toThrow(
        'No admin connection with identity:tokens_read and identity:tokens_write for org org-2',
      );
    },
  );
});
