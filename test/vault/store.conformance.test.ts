/**
 * The one conformance suite of the `Store` interface, run on SQLite (temp dir) and PostgreSQL (fresh schema).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/vault/store/postgres.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import type {
  ApiKeyRow,
  AuditRow,
  ConnectionRow,
  IntegrationRow,
  SessionRow,
  Store,
  TakenStateRow,
  TokenWrite,
} from '../../src/vault/store/types.js';
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

const DAY = 86_400_000;

const integration = integrationRow;

const connection = connectionRow;

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

    it('upserts an integration by (ownerId, clientId, apiBase), keeping its id', async () => {
      const stored = await store.upsertIntegration(
        integration({ id: 'int_other', secretEnc: 'v1:new', scopes: ['a', 'b'] }),
      );
      expect(stored.id).toBe('int_1');
      expect(stored.secretEnc).toBe('v1:new');
      expect(stored.scopes).toEqual(['a', 'b']);
      expect(stored.ownerId).toBe('local');
      expect((await store.findIntegration('local', 'C1', 'https://webexapis.com/v1'))?.id).toBe('int_1');
      expect(await store.findIntegration('local', 'C1', 'https://api-usgov.webex.com/v1')).toBeUndefined();
      expect(await store.findIntegration('acct_A', 'C1', 'https://webexapis.com/v1')).toBeUndefined();
      expect(await store.getIntegration('nope')).toBeUndefined();
      expect((await store.listIntegrations()).map((i) => i.id)).toEqual(['int_1']);
    });

    it('upserts a connection by (integration, person, owner): the second grant updates it', async () => {
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
      expect(second.row.ownerId).toBe('local');
      expect(await store.listConnections()).toHaveLength(1);
      // Where a grant goes: the existing connection, a new one (another owner or person), or nowhere (no integration).
      expect(await store.findGrantTarget('int_1', 'person-1', 'local')).toEqual({ connectionId: 'conn_1' });
      expect(await store.findGrantTarget('int_1', 'person-1', 'acct_A')).toEqual({ connectionId: undefined });
      expect(await store.findGrantTarget('int_1', 'person-2', 'local')).toEqual({ connectionId: undefined });
      expect(await store.findGrantTarget('int_none', 'person-1', 'local')).toBeUndefined();
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
        ownerId: 'local',
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
      // By id, revoked or not (revocation reads it to tell the key's owner, without listing every key).
      expect(await store.getApiKey('key_1')).toMatchObject({ id: 'key_1', revokedAt: 80, connectionIds: ['conn_1'] });
      expect(await store.getApiKey('key_none')).toBeUndefined();
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

    // Owners, accounts and sessions (migration 002 on SQLite, 004 on PostgreSQL), taken states (011, 013).

    it('keys integrations by owner: the same client id brought by two owners is two rows, each upserted alone', async () => {
      const a = await store.upsertIntegration(integration({ id: 'int_A', ownerId: 'acct_A', secretEnc: 'v1:a' }));
      const b = await store.upsertIntegration(integration({ id: 'int_B', ownerId: 'acct_B', secretEnc: 'v1:b' }));
      expect([a.id, a.ownerId, b.id, b.ownerId]).toEqual(['int_A', 'acct_A', 'int_B', 'acct_B']);
      const local = (await store.getIntegration('int_1')) as IntegrationRow;
      const again = await store.upsertIntegration(
        integration({ id: 'int_A2', ownerId: 'acct_A', secretEnc: 'v1:a2', scopes: ['x'], updatedAt: 2000 }),
      );
      expect(again).toMatchObject({
        id: 'int_A',
        ownerId: 'acct_A',
        secretEnc: 'v1:a2',
        scopes: ['x'],
        createdAt: 1000,
      });
      expect(await store.getIntegration('int_B')).toMatchObject({ secretEnc: 'v1:b', scopes: ['spark:all'] });
      expect(await store.getIntegration('int_1')).toEqual(local);
      expect((await store.findIntegration('acct_B', 'C1', 'https://webexapis.com/v1'))?.id).toBe('int_B');
      expect(await store.findIntegration('acct_C', 'C1', 'https://webexapis.com/v1')).toBeUndefined();
      expect((await store.listIntegrations('acct_A')).map((i) => i.id)).toEqual(['int_A']);
      expect((await store.listIntegrations()).map((i) => i.id).sort()).toEqual(['int_1', 'int_A', 'int_B']);
      expect(await store.listIntegrations('nobody')).toEqual([]);
      expect(await store.countIntegrations('acct_A')).toBe(1);
      expect(await store.countIntegrations('local')).toBe(1);
      expect(await store.countIntegrations('nobody')).toBe(0);
    });

    it('hands an integration to another owner only from the owner it has', async () => {
      await store.upsertIntegration(integration({ id: 'int_L2', clientId: 'C2' }));
      expect(await store.setIntegrationOwner('int_L2', 'acct_A', 'configured')).toBe(false);
      expect(await store.setIntegrationOwner('nope', 'local', 'configured')).toBe(false);
      expect(await store.setIntegrationOwner('int_L2', 'local', 'configured')).toBe(true);
      expect(await store.setIntegrationOwner('int_L2', 'local', 'configured')).toBe(false);
      expect((await store.findIntegration('configured', 'C2', 'https://webexapis.com/v1'))?.id).toBe('int_L2');
      expect(await store.findIntegration('local', 'C2', 'https://webexapis.com/v1')).toBeUndefined();
      // The upsert key follows the owner.
      const up = await store.upsertIntegration(integration({ id: 'x', ownerId: 'configured', clientId: 'C2' }));
      expect(up.id).toBe('int_L2');
    });

    it('keys connections by owner: the same person connected by two owners is two rows, each upserted alone', async () => {
      const local = (await store.getConnection('conn_1')) as ConnectionRow;
      const a = await store.upsertConnection(connection({ id: 'conn_A', ownerId: 'acct_A', accessTokenEnc: 'v1:A' }));
      const b = await store.upsertConnection(connection({ id: 'conn_B', ownerId: 'acct_B', accessTokenEnc: 'v1:B' }));
      expect([a.created, a.row.id, a.row.ownerId, a.row.version]).toEqual([true, 'conn_A', 'acct_A', 1]);
      expect([b.created, b.row.id, b.row.ownerId]).toEqual([true, 'conn_B', 'acct_B']);
      const again = await store.upsertConnection(connection({ id: 'x', ownerId: 'acct_A', accessTokenEnc: 'v1:A2' }));
      expect([again.created, again.row.id, again.row.version, again.row.accessTokenEnc]).toEqual([
        false,
        'conn_A',
        2,
        'v1:A2',
      ]);
      expect(await store.getConnection('conn_B')).toMatchObject({ accessTokenEnc: 'v1:B', version: 1 });
      expect(await store.getConnection('conn_1')).toEqual(local);
      expect((await store.findGrantTarget('int_1', 'person-1', 'acct_B'))?.connectionId).toBe('conn_B');
      expect((await store.listConnections('acct_A')).map((c) => c.id)).toEqual(['conn_A']);
      expect((await store.listConnections('local')).map((c) => c.id)).not.toContain('conn_A');
      expect((await store.listConnections()).map((c) => c.id)).toEqual(
        expect.arrayContaining(['conn_1', 'conn_A', 'conn_B']),
      );
      expect(await store.listConnections('nobody')).toEqual([]);
    });

    it('lists API keys by owner', async () => {
      const key = (id: string, ownerId: string, hash: string) => ({
        id,
        ownerId,
        name: id,
        keyHash: hash,
        prefix: 'wak_abcd',
        connectionIds: [],
        createdAt: 2,
        lastUsedAt: undefined,
        revokedAt: undefined,
      });
      await store.insertApiKey(key('key_A', 'acct_A', 'a1'.repeat(32)));
      await store.insertApiKey(key('key_L', 'local', 'b1'.repeat(32)));
      expect((await store.findApiKeyByHash('a1'.repeat(32)))?.ownerId).toBe('acct_A');
      expect((await store.listApiKeys('acct_A')).map((k) => k.id)).toEqual(['key_A']);
      expect((await store.listApiKeys('local')).map((k) => k.id)).toEqual(['key_L']);
      expect((await store.listApiKeys()).map((k) => k.id)).toEqual(['key_A', 'key_L']);
      await store.revokeApiKey('key_A', 3);
      expect(await store.listApiKeys('acct_A')).toEqual([]);
    });

    it('upserts an account by person id, keeping its id and createdAt', async () => {
      const first = await store.upsertAccount({
        id: 'acct_1',
        personId: 'wp-1',
        email: 'alice@example.com',
        displayName: 'Alice',
        orgId: 'org-1',
        createdAt: 10,
        lastSignInAt: 10,
      });
      expect(first).toEqual({
        id: 'acct_1',
        personId: 'wp-1',
        email: 'alice@example.com',
        displayName: 'Alice',
        orgId: 'org-1',
        createdAt: 10,
        lastSignInAt: 10,
      });
      const second = await store.upsertAccount({
        id: 'acct_other',
        personId: 'wp-1',
        email: 'alice@new.example.com',
        displayName: 'Alice E.',
        orgId: undefined,
        createdAt: 20,
        lastSignInAt: 20,
      });
      expect(second).toEqual({
        id: 'acct_1',
        personId: 'wp-1',
        email: 'alice@new.example.com',
        displayName: 'Alice E.',
        orgId: undefined,
        createdAt: 10,
        lastSignInAt: 20,
      });
      await store.upsertAccount({ ...first, id: 'acct_2', personId: 'wp-2', createdAt: 30, lastSignInAt: 30 });
      expect(await store.getAccount('acct_1')).toEqual(second);
      expect(await store.getAccount('acct_other')).toBeUndefined();
      expect((await store.listAccounts()).map((a) => a.id)).toEqual(['acct_1', 'acct_2']);
    });

    const session = (over: Partial<SessionRow> = {}): SessionRow => ({
      idHash: 'h1',
      accountId: undefined,
      dataEnc: 'v1:data',
      keyId: 'k1',
      expiresAt: 10_000,
      createdAt: 1000,
      updatedAt: 1000,
      ...over,
    });
    const taken = (over: Partial<TakenStateRow> = {}): Omit<TakenStateRow, 'connectionId'> => ({
      stateHash: 's1',
      browserHash: 'h1',
      expiresAt: 10_000,
      ...over,
    });

    it('writes together: every write stands on its own (a throw undoes nothing), nested groups join, the result is returned', async () => {
      const other = await reopen();
      try {
        let seenInside: SessionRow | undefined;
        const result = await store.writeTogether(async () => {
          await store.insertSession(session({ idHash: 'wt1' }));
          await store.writeTogether(() => store.takeState(taken({ stateHash: 'wt-s1', browserHash: 'wt1' })));
          seenInside = await other.getSession('wt1', 0);
          return 42;
        });
        expect(result).toBe(42);
        // SQLite commits the group once, at its end: another connection sees nothing before. PostgreSQL commits
        // each statement.
        if (store.kind === 'sqlite') expect(seenInside).toBeUndefined();
        else expect(seenInside).toBeDefined();
        expect(await other.getSession('wt1', 0)).toEqual(session({ idHash: 'wt1' }));
        expect(await other.getTakenState('wt-s1', 'wt1')).toBeDefined();
        // A failing statement and a throwing function keep what ran before them.
        await expect(
          store.writeTogether(async () => {
            await store.insertSession(session({ idHash: 'wt2' }));
            await store.insertSession(session({ idHash: 'wt2' })).catch(() => undefined); // duplicate key
            await store.takeState(taken({ stateHash: 'wt-s2', browserHash: 'wt2' }));
            throw new Error('after the writes');
          }),
        ).rejects.toThrow('after the writes');
        expect(await other.getSession('wt2', 0)).toBeDefined();
        expect(await other.getTakenState('wt-s2', 'wt2')).toBeDefined();
        // The store takes single writes again afterwards (no transaction left open).
        expect(await store.deleteSession('wt1')).toBe(true);
        expect(await other.getSession('wt1', 0)).toBeUndefined();
      } finally {
        await other.close();
        await store.deleteSession('wt2');
      }
    });

    it('writes together no longer than one event-loop turn: a group that waits on a timer holds no lock across it', async () => {
      const other = await reopen();
      try {
        let seenDuringWait: SessionRow | undefined;
        await store.writeTogether(async () => {
          await store.insertSession(session({ idHash: 'wt3' }));
          await new Promise((r) => setTimeout(r, 20));
          // The group's transaction was committed when its turn ended: another connection sees the row, and can write.
          seenDuringWait = await other.getSession('wt3', 0);
          await other.insertSession(session({ idHash: 'wt4' }));
          await store.takeState(taken({ stateHash: 'wt-s3', browserHash: 'wt3' }));
        });
        expect(seenDuringWait).toEqual(session({ idHash: 'wt3' }));
        expect(await other.getTakenState('wt-s3', 'wt3')).toBeDefined();
        expect(await store.getSession('wt4', 0)).toBeDefined();
      } finally {
        await other.close();
        await store.deleteSession('wt3');
        await store.deleteSession('wt4');
      }
    });

    it('stores a session by hash until it expires; updates it while live; deletes it', async () => {
      await store.insertSession(session());
      expect(await store.getSession('h1', 5000)).toEqual(session());
      expect(await store.getSession('h1', 10_000)).toBeUndefined(); // expired at its expiry
      expect(await store.getSession('nope', 5000)).toBeUndefined();
      const write = { accountId: 'acct_1', dataEnc: 'v1:data2', keyId: 'k2', expiresAt: 20_000, updatedAt: 6000 };
      expect(await store.updateSession('h1', write)).toBe(true);
      expect(await store.getSession('h1', 15_000)).toEqual({ ...session(), ...write });
      expect(await store.updateSession('nope', write)).toBe(false);
      // An expired session is gone even before the purge: an update does not revive it.
      expect(await store.updateSession('h1', { ...write, expiresAt: 90_000, updatedAt: 20_000 })).toBe(false);
      expect(await store.deleteSession('h1')).toBe(true);
      expect(await store.deleteSession('h1')).toBe(false);
      expect(await store.getSession('h1', 0)).toBeUndefined();
    });

    it('takes a state once; the row, told only to its browser, records the connection it produced', async () => {
      expect(await store.takeState(taken({ stateHash: 'st1', browserHash: 'h2', expiresAt: 1500 }))).toBe(true);
      // Taken: by the same browser again, by another, under any expiry.
      expect(await store.takeState(taken({ stateHash: 'st1', browserHash: 'h2', expiresAt: 1500 }))).toBe(false);
      expect(await store.takeState(taken({ stateHash: 'st1', browserHash: 'h-other', expiresAt: 9000 }))).toBe(false);
      expect(await store.getTakenState('st1', 'h2')).toEqual({
        stateHash: 'st1',
        browserHash: 'h2',
        expiresAt: 1500,
        connectionId: undefined,
      });
      expect(await store.getTakenState('st1', 'h-other')).toBeUndefined();
      expect(await store.getTakenState('nope', 'h2')).toBeUndefined();
      await store.completeTakenState('st1', 'conn_1');
      expect((await store.getTakenState('st1', 'h2'))?.connectionId).toBe('conn_1');
      await store.completeTakenState('st-never', 'conn_1'); // never taken: records nothing
      expect(await store.getTakenState('st-never', 'h2')).toBeUndefined();
    });

    it('lets exactly one of concurrent takes win, across store instances', async () => {
      const other = await reopen();
      try {
        for (let round = 0; round < 5; round++) {
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              (i % 2 ? other : store).takeState(taken({ stateHash: `race${round}`, browserHash: 'h2' })),
            ),
          );
          expect(results.filter(Boolean)).toHaveLength(1);
        }
      } finally {
        await other.close();
      }
    });

    it('rotates a session: the row under its new hash with the new values, the old hash gone', async () => {
      await store.insertSession(session({ idHash: 'h3', accountId: undefined, dataEnc: 'old', expiresAt: 5000 }));
      const rotated = session({
        idHash: 'h4',
        accountId: 'acct_r',
        dataEnc: 'new',
        keyId: 'k2',
        expiresAt: 9000,
        createdAt: 100,
        updatedAt: 2000,
      });
      await store.rotateSession('h3', rotated);
      expect(await store.getSession('h3', 1000)).toBeUndefined();
      expect(await store.getSession('h4', 1000)).toEqual(rotated);
      // The old row gone meanwhile (signed out elsewhere): the new one is inserted, as a new session.
      const again = session({ idHash: 'h5', accountId: 'acct_r', dataEnc: 'again', expiresAt: 9000 });
      await store.rotateSession('h-gone', again);
      expect(await store.getSession('h5', 1000)).toEqual(again);
    });

    it('purges expired sessions, and taken states a day after their expiry', async () => {
      const now = 1_000_000_000_000;
      await store.purgeExpired(now - 10 * DAY); // what the tests above left
      await store.insertSession(session({ idHash: 'p-live', expiresAt: now + 1 }));
      await store.insertSession(session({ idHash: 'p-dead', expiresAt: now - 1 }));
      await store.takeState(taken({ stateHash: 'p-open', expiresAt: now + 1 }));
      await store.takeState(taken({ stateHash: 'p-expired-recent', expiresAt: now - 1000 }));
      await store.takeState(taken({ stateHash: 'p-expired-day', expiresAt: now - DAY }));
      await store.takeState(taken({ stateHash: 'p-expired-old', expiresAt: now - DAY - 1 }));
      expect(await store.purgeExpired(now)).toBe(2);
      expect(await store.getSession('p-live', 0)).toBeDefined();
      expect(await store.getSession('p-dead', 0)).toBeUndefined();
      expect(await store.getTakenState('p-open', 'h1')).toBeDefined();
      expect(await store.getTakenState('p-expired-recent', 'h1')).toBeDefined();
      expect(await store.getTakenState('p-expired-day', 'h1')).toBeDefined();
      expect(await store.getTakenState('p-expired-old', 'h1')).toBeUndefined();
      expect(await store.purgeExpired(now)).toBe(0);
    });

    it('counts no session as a secret to re-encrypt', async () => {
      const before = await store.countNotUnderKey('k-none');
      await store.insertSession(session({ idHash: 'rot', keyId: 'k-old', expiresAt: Number.MAX_SAFE_INTEGER }));
      expect(await store.countNotUnderKey('k-none')).toBe(before);
      const rows = await store.rowsNotUnderKey('k-none', 1000);
      expect(rows.integrations.length + rows.connections.length).toBe(before);
    });

    describe('forced refresh claims', () => {
      const T = 1_700_000_000_000;
      const claimRow = (id: string) => store.upsertConnection(connection({ id, personId: `p-${id}` }));

      it('of concurrent claims from two store connections exactly one wins; the others learn how long to wait', async () => {
        await claimRow('fr_race');
        const other = await reopen();
        try {
          const claims = await Promise.all(
            Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).claimForcedRefresh('fr_race', T, 30_000)),
          );
          expect(claims.filter((c) => c?.claimed)).toHaveLength(1);
          for (const c of claims.filter((c) => !c?.claimed)) {
            expect(c).toEqual({ claimed: false, retryAfterMs: 30_000 });
          }
        } finally {
          await other.close();
        }
      });

      it('is claimable again once the interval has passed, and not a millisecond before', async () => {
        await claimRow('fr_interval');
        expect(await store.claimForcedRefresh('fr_interval', T, 30_000)).toEqual({ claimed: true });
        expect(await store.claimForcedRefresh('fr_interval', T + 12_000, 30_000)).toEqual({
          claimed: false,
          retryAfterMs: 18_000,
        });
        expect(await store.claimForcedRefresh('fr_interval', T + 29_999, 30_000)).toEqual({
          claimed: false,
          retryAfterMs: 1,
        });
        expect(await store.claimForcedRefresh('fr_interval', T + 30_000, 30_000)).toEqual({ claimed: true });
        // A refused claim does not move the stamp: the wait counts from the last claim that won.
        expect(await store.claimForcedRefresh('fr_interval', T + 40_000, 30_000)).toEqual({
          claimed: false,
          retryAfterMs: 20_000,
        });
      });

      it('a refused claim writes nothing (SQLite: the change stamp of the caches stays)', async () => {
        await claimRow('fr_quiet');
        expect(await store.claimForcedRefresh('fr_quiet', T, 30_000)).toEqual({ claimed: true });
        // PostgreSQL's stamp also counts notifications, which arrive when they arrive: checked on SQLite only, where
        // it counts this store's writes synchronously (the read-first path is the same SQL on both).
        if (store.kind !== 'sqlite') return;
        const stamp = store.changeStamp?.('connections');
        for (let i = 1; i <= 5; i++) {
          expect((await store.claimForcedRefresh('fr_quiet', T + i, 30_000))?.claimed).toBe(false);
        }
        expect(store.changeStamp?.('connections')).toBe(stamp);
      });

      it('with interval 0 is always claimed', async () => {
        await claimRow('fr_zero');
        for (let i = 0; i < 5; i++) expect(await store.claimForcedRefresh('fr_zero', T, 0)).toEqual({ claimed: true });
      });

      it('counts a stamp from a clock more than one interval ahead as stale', async () => {
        await claimRow('fr_skew');
        expect(await store.claimForcedRefresh('fr_skew', T + 3_600_000, 30_000)).toEqual({ claimed: true });
        expect(await store.claimForcedRefresh('fr_skew', T, 30_000)).toEqual({ claimed: true });
        expect((await store.claimForcedRefresh('fr_skew', T + 1000, 30_000))?.claimed).toBe(false);
      });

      it('is undefined for an unknown connection, and leaves the rest of the row alone', async () => {
        expect(await store.claimForcedRefresh('fr_nope', T, 30_000)).toBeUndefined();
        const { row } = await claimRow('fr_row');
        await store.claimForcedRefresh('fr_row', T, 30_000);
        expect(await store.getConnection('fr_row')).toEqual(row);
      });
    });

    describe('audit log', () => {
      const entry = (over: Partial<AuditRow> = {}): AuditRow => ({
        id: 'aud_1',
        at: 5000,
        actorKind: 'account',
        actorId: 'acct_A',
        actorLabel: 'a@example.com',
        action: 'signin',
        ownerId: 'acct_A',
        target: undefined,
        address: '192.0.2.7',
        detail: undefined,
        ...over,
      });

      it('stores entries and reads them newest first, by owner or actor, since, action, before (at, id)', async () => {
        await store.insertAudit(entry());
        await store.insertAudit(entry({ id: 'aud_2', at: 6000, action: 'connect', target: 'conn_1', detail: 'Alice' }));
        await store.insertAudit(
          entry({
            id: 'aud_3',
            at: 6000,
            actorKind: 'admin-token',
            actorId: undefined,
            actorLabel: undefined,
            action: 'connection.delete',
            ownerId: 'acct_A',
          }),
        );
        await store.insertAudit(
          entry({ id: 'aud_4', at: 7000, actorId: 'acct_B', actorLabel: 'b@example.com', ownerId: 'acct_A' }),
        );
        await store.insertAudit(
          entry({
            id: 'aud_5',
            at: 8000,
            actorKind: 'cli',
            actorId: undefined,
            actorLabel: undefined,
            ownerId: undefined,
            address: 'cli',
          }),
        );
        const ids = (rows: AuditRow[]) => rows.map((r) => r.id);
        expect(ids(await store.listAudit({ limit: 10 }))).toEqual(['aud_5', 'aud_4', 'aud_3', 'aud_2', 'aud_1']);
        expect((await store.listAudit({ limit: 10 }))[3]).toEqual(
          entry({ id: 'aud_2', at: 6000, action: 'connect', target: 'conn_1', detail: 'Alice' }),
        );
        expect(ids(await store.listAudit({ limit: 2 }))).toEqual(['aud_5', 'aud_4']);
        expect(ids(await store.listAudit({ ownerId: 'acct_B', limit: 10 }))).toEqual(['aud_4']);
        expect(ids(await store.listAudit({ ownerId: 'acct_A', limit: 10 }))).toEqual([
          'aud_4',
          'aud_3',
          'aud_2',
          'aud_1',
        ]);
        expect(ids(await store.listAudit({ since: 6000, limit: 10 }))).toEqual(['aud_5', 'aud_4', 'aud_3', 'aud_2']);
        expect(ids(await store.listAudit({ action: 'signin', limit: 10 }))).toEqual(['aud_5', 'aud_4', 'aud_1']);
        expect(ids(await store.listAudit({ before: 7000, limit: 10 }))).toEqual(['aud_3', 'aud_2', 'aud_1']);
        expect(ids(await store.listAudit({ before: 6000, beforeId: 'aud_3', limit: 10 }))).toEqual(['aud_2', 'aud_1']);
        expect(ids(await store.listAudit({ ownerId: 'acct_A', before: 7000, action: 'signin', limit: 10 }))).toEqual([
          'aud_1',
        ]);
      });

      it('purges entries older than a time, and counts them', async () => {
        expect(await store.purgeAudit(6000)).toBe(1);
        expect(await store.purgeAudit(6000)).toBe(0);
        expect((await store.listAudit({ limit: 10 })).map((r) => r.id)).toEqual(['aud_5', 'aud_4', 'aud_3', 'aud_2']);
        expect(await store.purgeAudit(Number.MAX_SAFE_INTEGER)).toBe(4);
        expect(await store.listAudit({ limit: 10 })).toEqual([]);
      });

      it('purges a backlog larger than one slice, with more than a slice in one millisecond', async () => {
        // 1,200 entries in one millisecond, then 1,300 one a millisecond (PURGE_BATCH is 1,000).
        const rows = [
          ...Array.from({ length: 1200 }, (_, i) => entry({ id: `aud_same_${i}`, at: 1000 })),
          ...Array.from({ length: 1300 }, (_, i) => entry({ id: `aud_seq_${i}`, at: 2000 + i })),
        ];
        for (let i = 0; i < rows.length; i += 100) {
          await Promise.all(rows.slice(i, i + 100).map((r) => store.insertAudit(r)));
        }
        expect(await store.purgeAudit(3000)).toBe(2200);
        const left = await store.listAudit({ limit: 1000 });
        expect(left).toHaveLength(300);
        expect(Math.min(...left.map((r) => r.at))).toBe(3000);
        expect(await store.purgeAudit(Number.MAX_SAFE_INTEGER)).toBe(300);
      });
    });

    describe('API key permissions', () => {
      const apiKey = (id: string, hash: string, over: Partial<ApiKeyRow> = {}): ApiKeyRow => ({
        id,
        ownerId: 'local',
        name: id,
        keyHash: hash,
        prefix: 'wak_perm',
        connectionIds: ['conn_1'],
        createdAt: 10,
        lastUsedAt: undefined,
        revokedAt: undefined,
        ...over,
      });
      /** Waits until `s` reports a change stamp (PostgreSQL: once it listens), and returns it. */
      async function stampOf(s: Store): Promise<number> {
        for (;;) {
          const stamp = s.changeStamp?.('apiKeys');
          if (stamp !== undefined) return stamp;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }

      it('stores permissions, paths and methods; a row without permissions reads back as legacy (undefined)', async () => {
        await store.insertApiKey(
          apiKey('kp_new', 'c1'.repeat(32), { permissions: ['token', 'proxy'], paths: ['rooms'], methods: ['GET'] }),
        );
        await store.insertApiKey(apiKey('kp_legacy', 'c2'.repeat(32)));
        expect(await store.findApiKeyByHash('c1'.repeat(32))).toMatchObject({
          permissions: ['token', 'proxy'],
          paths: ['rooms'],
          methods: ['GET'],
        });
        const legacy = await store.findApiKeyByHash('c2'.repeat(32));
        expect(legacy?.permissions).toBeUndefined();
        expect(legacy?.paths).toBeUndefined();
        expect(legacy?.methods).toBeUndefined();
        expect((await store.listApiKeys()).find((k) => k.id === 'kp_new')?.permissions).toEqual(['token', 'proxy']);
      });

      it('replaces the permissions of a live key only (a legacy key stops being one)', async () => {
        expect(await store.setApiKeyPermissions('kp_legacy', ['token'])).toBe(true);
        expect((await store.findApiKeyByHash('c2'.repeat(32)))?.permissions).toEqual(['token']);
        expect(await store.setApiKeyPermissions('kp_nope', ['token'])).toBe(false);
        await store.revokeApiKey('kp_legacy', 20);
        expect(await store.setApiKeyPermissions('kp_legacy', ['token', 'refresh'])).toBe(false);
        await store.revokeApiKey('kp_new', 20);
      });

      it('a change of permissions by another connection moves the apiKeys change stamp', async () => {
        await store.insertApiKey(apiKey('kp_stamp', 'c3'.repeat(32), { permissions: ['token', 'delete'] }));
        const other = await reopen();
        try {
          const before = await stampOf(store);
          expect(await other.setApiKeyPermissions('kp_stamp', ['token'])).toBe(true);
          while ((await stampOf(store)) === before) await new Promise((resolve) => setTimeout(resolve, 5));
          expect((await store.findApiKeyByHash('c3'.repeat(32)))?.permissions).toEqual(['token']);
        } finally {
          await other.close();
          await store.revokeApiKey('kp_stamp', 30);
        }
      });
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
