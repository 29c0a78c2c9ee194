/**
 * Team mode in the vault: owners of integrations, connections and API keys (the configured integration adopting the
 * local operator's row), accounts, store-backed web sessions with their pending authorizations, and derived keys.
 */
import { hash, hkdfSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PendingAuthorization } from '../../src/oauth/types.js';
import { CONFIGURED_OWNER, KeyRing, LOCAL_OPERATOR, openVault, type VaultInternals } from '../../src/vault/index.js';
import { fakeWebex } from './fake-webex.js';
import {
  dropSchema,
  freshSchema,
  PG_URL,
  postgresAvailable,
  TEST_KEY,
  TEST_KEY_2,
  tempDir,
  testConfig,
  tokenSet,
} from './helpers.js';

const pgUp = await postgresAvailable();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const INTEGRATION = {
  clientId: 'C1',
  clientSecret: 'SECRET',
  redirectUri: 'http://localhost:8080/oauth',
  scopes: ['spark:all'],
  apiBase: 'https://webex.test/v1',
};

const sha256 = (s: string) => hash('sha256', s, 'hex');

function pendingAuth(
  state: string,
  now: number,
  redirectUri = 'http://localhost:8080/oauth/callback',
): PendingAuthorization {
  return {
    state,
    codeVerifier: `verifier-${state}`,
    nonce: `nonce-${state}`,
    redirectUri,
    scopes: ['openid'],
    createdAt: now,
  };
}

describe('vault owners, accounts and sessions (SQLite)', () => {
  let vault: VaultInternals;
  let now: number;
  let dir: string;
  let cleanup: () => void;
  const open = (keys = TEST_KEY) =>
    openVault(testConfig({ WEBEX_AUTH_DB: join(dir, 'vault.db'), WEBEX_AUTH_KEYS: keys }), {
      fetch: fakeWebex().fetch,
      clock: () => now,
    });

  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    now = 1_700_000_000_000;
    vault = await open();
  });
  afterEach(async () => {
    await vault.close();
    cleanup();
  });

  const grant = (integrationId: string, personId: string, ownerId?: string) =>
    vault.connections.saveFromGrant({
      integrationId,
      tokens: tokenSet({ accessToken: `ACCESS-${personId}-${ownerId}`, refreshToken: 'REFRESH' }, now),
      person: { id: personId, emails: [`${personId}@example.com`], displayName: personId },
      requestedScopes: ['spark:all'],
      ...(ownerId ? { ownerId } : {}),
    });

  describe('owners', () => {
    it('keys integrations by owner; no owner means the local operator, as before owners', async () => {
      const local = await vault.integrations.upsert(INTEGRATION);
      expect(local.ownerId).toBe(LOCAL_OPERATOR);
      const a = await vault.integrations.upsert({ ...INTEGRATION, clientSecret: 'A-SECRET', ownerId: 'acct_A' });
      expect(a.id).not.toBe(local.id);
      expect(a.ownerId).toBe('acct_A');
      // An upsert by A changes A's row only.
      await vault.integrations.upsert({ ...INTEGRATION, clientSecret: 'A-SECRET-2', ownerId: 'acct_A' });
      expect((await vault.getIntegrationWithSecret(local.id))?.clientSecret).toBe('SECRET');
      expect((await vault.getIntegrationWithSecret(a.id))?.clientSecret).toBe('A-SECRET-2');
      expect((await vault.integrations.findByClientId(' C1 ', 'https://webex.test/v1/'))?.id).toBe(local.id);
      expect((await vault.integrations.findByClientId('C1', 'https://webex.test/v1', 'acct_A'))?.id).toBe(a.id);
      expect(await vault.integrations.findByClientId('C1', 'https://webex.test/v1', 'acct_B')).toBeUndefined();
      expect((await vault.integrations.list('acct_A')).map((i) => i.id)).toEqual([a.id]);
      expect(await vault.integrations.list()).toHaveLength(2);
      expect(await vault.integrations.count('acct_A')).toBe(1);
      expect(await vault.integrations.count('acct_B')).toBe(0);
      await expect(vault.integrations.upsert({ ...INTEGRATION, ownerId: '' })).rejects.toMatchObject({
        code: 'invalid_request',
      });
    });

    it('the configured integration adopts the local row of the same client id, keeping its connections', async () => {
      const local = await vault.integrations.upsert(INTEGRATION);
      const c = await grant(local.id, 'p1');
      const configured = await vault.integrations.upsert({
        ...INTEGRATION,
        clientSecret: 'ROTATED',
        ownerId: CONFIGURED_OWNER,
      });
      expect(configured.id).toBe(local.id);
      expect(configured.ownerId).toBe(CONFIGURED_OWNER);
      expect((await vault.getIntegrationWithSecret(local.id))?.clientSecret).toBe('ROTATED');
      expect(await vault.integrations.list(LOCAL_OPERATOR)).toEqual([]);
      expect((await vault.connections.get(c.id))?.integrationId).toBe(local.id);
      expect((await vault.connections.getFreshToken(c.id)).accessToken).toBe('ACCESS-p1-undefined');
      // Once configured, it stays the one row; a later local upsert of the same client id is the operator's own row.
      expect((await vault.integrations.upsert({ ...INTEGRATION, ownerId: CONFIGURED_OWNER })).id).toBe(local.id);
      const again = await vault.integrations.upsert(INTEGRATION);
      expect(again.id).not.toBe(local.id);
      expect((await vault.integrations.upsert({ ...INTEGRATION, ownerId: CONFIGURED_OWNER })).id).toBe(local.id);
      expect((await vault.integrations.findByClientId('C1', 'https://webex.test/v1'))?.id).toBe(again.id);
    });

    it('only the configured owner adopts, and only a row with the same API base', async () => {
      const local = await vault.integrations.upsert(INTEGRATION);
      expect((await vault.integrations.upsert({ ...INTEGRATION, ownerId: 'acct_A' })).id).not.toBe(local.id);
      const other = await vault.integrations.upsert({
        ...INTEGRATION,
        apiBase: 'https://other.test/v1',
        ownerId: CONFIGURED_OWNER,
      });
      expect(other.id).not.toBe(local.id);
      expect((await vault.integrations.get(local.id))?.ownerId).toBe(LOCAL_OPERATOR);
    });

    it('keys connections by owner: the same person connected by two owners is two connections', async () => {
      const integ = await vault.integrations.upsert({ ...INTEGRATION, ownerId: CONFIGURED_OWNER });
      const local = await grant(integ.id, 'p1');
      const a = await grant(integ.id, 'p1', 'acct_A');
      const b = await grant(integ.id, 'p1', 'acct_B');
      expect(new Set([local.id, a.id, b.id]).size).toBe(3);
      expect([local.ownerId, a.ownerId, b.ownerId]).toEqual([LOCAL_OPERATOR, 'acct_A', 'acct_B']);
      // A's second grant updates A's connection only.
      const a2 = await grant(integ.id, 'p1', 'acct_A');
      expect(a2.id).toBe(a.id);
      expect((await vault.connections.revealTokens(b.id))?.accessToken).toBe('ACCESS-p1-acct_B');
      expect((await vault.connections.list('acct_A')).map((c) => c.id)).toEqual([a.id]);
      expect((await vault.connections.list(LOCAL_OPERATOR)).map((c) => c.id)).toEqual([local.id]);
      expect(await vault.connections.list()).toHaveLength(3);
    });

    it("gives API keys an owner; an account's key may name only that account's connections", async () => {
      const integ = await vault.integrations.upsert({ ...INTEGRATION, ownerId: CONFIGURED_OWNER });
      const mine = await grant(integ.id, 'p1', 'acct_A');
      const theirs = await grant(integ.id, 'p2', 'acct_B');
      const local = await grant(integ.id, 'p3');
      const key = await vault.apiKeys.create({ name: 'bot', connectionIds: [mine.id], ownerId: 'acct_A' });
      expect(key.record.ownerId).toBe('acct_A');
      expect((await vault.apiKeys.verify(key.key))?.ownerId).toBe('acct_A');
      for (const id of [theirs.id, local.id]) {
        await expect(
          vault.apiKeys.create({ name: 'bot', connectionIds: [mine.id, id], ownerId: 'acct_A' }),
        ).rejects.toMatchObject({ code: 'not_found' });
      }
      // The local operator (the CLI) may name any connection, as before owners.
      const op = await vault.apiKeys.create({ name: 'ops', connectionIds: [theirs.id, local.id] });
      expect(op.record.ownerId).toBe(LOCAL_OPERATOR);
      expect((await vault.apiKeys.list('acct_A')).map((k) => k.id)).toEqual([key.record.id]);
      expect((await vault.apiKeys.list(LOCAL_OPERATOR)).map((k) => k.id)).toEqual([op.record.id]);
      expect(await vault.apiKeys.list()).toHaveLength(2);
    });
  });

  describe('accounts', () => {
    it('creates one account per Webex person and updates it at each sign-in', async () => {
      const first = await vault.accounts.upsert({ personId: 'wp-1', email: 'a@example.com', displayName: 'A' });
      expect(first.id).toMatch(/^acct_[A-Za-z0-9_-]{16}$/);
      expect(first).toMatchObject({ personId: 'wp-1', createdAt: now, lastSignInAt: now, orgId: undefined });
      now += HOUR;
      const second = await vault.accounts.upsert({
        personId: 'wp-1',
        email: 'a2@example.com',
        displayName: 'A2',
        orgId: 'org',
      });
      expect(second).toEqual({
        id: first.id,
        personId: 'wp-1',
        email: 'a2@example.com',
        displayName: 'A2',
        orgId: 'org',
        createdAt: first.createdAt,
        lastSignInAt: now,
      });
      await vault.accounts.upsert({ personId: 'wp-2', email: '', displayName: 'B' });
      expect(await vault.accounts.get(first.id)).toEqual(second);
      expect(await vault.accounts.list()).toHaveLength(2);
      expect(await vault.accounts.get('acct_nope')).toBeUndefined();
      await expect(vault.accounts.upsert({ personId: ' ', email: '', displayName: '' })).rejects.toMatchObject({
        code: 'invalid_request',
      });
    });
  });

  describe('web sessions', () => {
    it('stores a session encrypted under the hash of its id, until it expires', async () => {
      const s = await vault.sessions.create({ accountId: 'acct_1', data: { csrf: 'CSRF-CANARY' }, ttlMs: HOUR });
      expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(s).toMatchObject({
        accountId: 'acct_1',
        data: { csrf: 'CSRF-CANARY' },
        expiresAt: now + HOUR,
        createdAt: now,
      });
      const row = await vault.store.getSession(sha256(s.id), now);
      expect(row).toMatchObject({ accountId: 'acct_1', expiresAt: now + HOUR });
      expect(row?.dataEnc).not.toContain('CSRF-CANARY');
      expect(await vault.store.getSession(s.id, now)).toBeUndefined(); // never keyed by the id itself
      expect(await vault.sessions.get(s.id)).toEqual(s);
      now += HOUR;
      expect(await vault.sessions.get(s.id)).toBeUndefined();
      const anonymous = await vault.sessions.create({ ttlMs: HOUR });
      expect(await vault.sessions.get(anonymous.id)).toEqual({
        id: anonymous.id,
        accountId: undefined,
        data: {},
        expiresAt: now + HOUR,
        createdAt: now,
      });
    });

    it('treats a malformed, unknown, tampered or undecryptable session as none, never throwing', async () => {
      for (const id of ['', 'x', 'a'.repeat(44), 'a'.repeat(43), undefined as unknown as string]) {
        expect(await vault.sessions.get(id)).toBeUndefined();
      }
      const s = await vault.sessions.create({ accountId: 'acct_1', ttlMs: HOUR });
      const row = await vault.store.getSession(sha256(s.id), now);
      if (!row) throw new Error('no row');
      // The clear account column changed without the sealed data: not a session.
      await vault.store.updateSession(row.idHash, { ...row, accountId: 'acct_evil' });
      expect(await vault.sessions.get(s.id)).toBeUndefined();
      // Another session's data moved onto this row: not a session (the ciphertext is bound to its row).
      const other = await vault.sessions.create({ accountId: 'acct_evil', ttlMs: HOUR });
      const otherRow = await vault.store.getSession(sha256(other.id), now);
      await vault.store.updateSession(row.idHash, { ...(otherRow as typeof row) });
      expect(await vault.sessions.get(s.id)).toBeUndefined();
      expect(await vault.sessions.get(other.id)).toBeDefined();
    });

    it('a session sealed under a key no longer in the ring is no session; one under an older ring key still is', async () => {
      const s = await vault.sessions.create({ data: { n: 1 }, ttlMs: HOUR });
      await vault.sessions.addPending(
        s.id,
        { purpose: 'signin', integrationId: 'int_x', pending: pendingAuth('ST', now) },
        HOUR,
      );
      await vault.close();
      vault = await open(`${TEST_KEY_2},${TEST_KEY}`);
      expect((await vault.sessions.get(s.id))?.data).toEqual({ n: 1 });
      await vault.close();
      vault = await open(TEST_KEY_2);
      expect(await vault.sessions.get(s.id)).toBeUndefined();
      expect(await vault.sessions.takePending(s.id, 'ST')).toBeUndefined();
    });

    it('saves data and extends the expiry; a destroyed or expired session is not saved', async () => {
      const s = await vault.sessions.create({ ttlMs: HOUR });
      now += 30 * MINUTE;
      s.data = { flash: 'hello' };
      s.accountId = 'acct_1';
      expect(await vault.sessions.save(s, HOUR)).toBe(true);
      expect(s.expiresAt).toBe(now + HOUR);
      expect(await vault.sessions.get(s.id)).toEqual({ ...s, createdAt: now - 30 * MINUTE });
      now += 59 * MINUTE;
      expect(await vault.sessions.get(s.id)).toBeDefined();
      now += 2 * MINUTE;
      expect(await vault.sessions.save(s, HOUR)).toBe(false);
      const t = await vault.sessions.create({ ttlMs: HOUR });
      await vault.sessions.destroy(t.id);
      expect(await vault.sessions.save(t, HOUR)).toBe(false);
      expect(await vault.sessions.get(t.id)).toBeUndefined();
      await expect(vault.sessions.create({ ttlMs: 0 })).rejects.toMatchObject({ code: 'invalid_request' });
    });

    it('rotates a session: a new id with the same data and pending authorizations; the old id stops working', async () => {
      const s = await vault.sessions.create({ data: { step: 'signin' }, ttlMs: HOUR });
      await vault.sessions.addPending(
        s.id,
        { purpose: 'signin', integrationId: 'int_1', pending: pendingAuth('S1', now) },
        HOUR,
      );
      now += MINUTE;
      s.accountId = 'acct_1';
      const r = await vault.sessions.rotate(s, 2 * HOUR);
      expect(r.id).not.toBe(s.id);
      expect(r).toMatchObject({ accountId: 'acct_1', data: { step: 'signin' }, expiresAt: now + 2 * HOUR });
      expect(r.createdAt).toBe(s.createdAt);
      expect(await vault.sessions.get(s.id)).toBeUndefined();
      expect(await vault.sessions.get(r.id)).toEqual(r);
      expect(await vault.sessions.countPending(s.id)).toBe(0);
      expect(await vault.sessions.countPending(r.id)).toBe(1);
      expect(await vault.sessions.takePending(s.id, 'S1')).toBeUndefined();
      expect((await vault.sessions.takePending(r.id, 'S1'))?.pending.codeVerifier).toBe('verifier-S1');
    });

    it('takes a pending authorization at most once, for its own session, before it expires', async () => {
      const s = await vault.sessions.create({ ttlMs: HOUR });
      const other = await vault.sessions.create({ ttlMs: HOUR });
      const pending = pendingAuth('STATE-1', now, 'http://localhost:8080/oauth/callback?x=1');
      await vault.sessions.addPending(s.id, { purpose: 'connect', integrationId: 'int_1', pending }, 10 * MINUTE);
      const row = await vault.store.getPending(sha256('STATE-1'), sha256(s.id));
      expect(row?.dataEnc).not.toContain('verifier-STATE-1');
      expect(await vault.sessions.findPending(s.id, 'STATE-1')).toEqual({
        purpose: 'connect',
        integrationId: 'int_1',
        redirectPath: '/oauth/callback',
        taken: false,
        connectionId: undefined,
      });
      expect(await vault.sessions.findPending(other.id, 'STATE-1')).toBeUndefined();
      expect(await vault.sessions.countPending(s.id)).toBe(1);
      expect(await vault.sessions.takePending(other.id, 'STATE-1')).toBeUndefined();
      expect(await vault.sessions.takePending(s.id, 'STATE-2')).toBeUndefined();
      expect(await vault.sessions.takePending(s.id, 'STATE-1')).toEqual({
        purpose: 'connect',
        integrationId: 'int_1',
        pending,
      });
      expect(await vault.sessions.takePending(s.id, 'STATE-1')).toBeUndefined();
      expect(await vault.sessions.countPending(s.id)).toBe(0);
      await vault.sessions.completePending('STATE-1', 'conn_1');
      expect(await vault.sessions.findPending(s.id, 'STATE-1')).toMatchObject({ taken: true, connectionId: 'conn_1' });

      await vault.sessions.addPending(
        s.id,
        { purpose: 'signin', integrationId: 'int_1', pending: pendingAuth('OLD', now) },
        MINUTE,
      );
      now += MINUTE;
      expect(await vault.sessions.takePending(s.id, 'OLD')).toBeUndefined();
      expect(await vault.sessions.findPending(s.id, 'OLD')).toMatchObject({ purpose: 'signin', taken: false });
    });

    it('destroying a session deletes its pending authorizations; purging deletes what expired', async () => {
      const s = await vault.sessions.create({ ttlMs: HOUR });
      await vault.sessions.addPending(
        s.id,
        { purpose: 'connect', integrationId: 'i', pending: pendingAuth('D1', now) },
        HOUR,
      );
      await vault.sessions.destroy(s.id);
      expect(await vault.store.getPending(sha256('D1'), sha256(s.id))).toBeUndefined();
      await vault.sessions.destroy('not-a-session');

      const live = await vault.sessions.create({ ttlMs: 3 * HOUR });
      const dead = await vault.sessions.create({ ttlMs: HOUR });
      await vault.sessions.addPending(
        live.id,
        { purpose: 'connect', integrationId: 'i', pending: pendingAuth('P1', now) },
        MINUTE,
      );
      now += 2 * HOUR;
      expect(await vault.sessions.purgeExpired()).toBe(2);
      expect(await vault.sessions.get(live.id)).toBeDefined();
      expect(await vault.store.getSession(sha256(dead.id), 0)).toBeUndefined();
      expect(await vault.sessions.findPending(live.id, 'P1')).toBeUndefined();
    });

    it('rejects a pending authorization it could not serve', async () => {
      const s = await vault.sessions.create({ ttlMs: HOUR });
      const entry = { purpose: 'connect' as const, integrationId: 'i', pending: pendingAuth('X', now) };
      await expect(vault.sessions.addPending('nope', entry, HOUR)).rejects.toMatchObject({ code: 'invalid_request' });
      await expect(
        vault.sessions.addPending(s.id, { ...entry, pending: { ...entry.pending, redirectUri: 'not a url' } }, HOUR),
      ).rejects.toMatchObject({ code: 'invalid_request' });
      await expect(
        vault.sessions.addPending(s.id, { ...entry, purpose: 'other' as 'connect' }, HOUR),
      ).rejects.toMatchObject({ code: 'invalid_request' });
    });
  });

  describe('derived keys and rotation', () => {
    it('derives one 32-byte key per ring key with HKDF-SHA256, the active key first', async () => {
      const keys = vault.deriveKeys('cookies');
      expect(keys).toHaveLength(1);
      const ringKey = Buffer.from(TEST_KEY.split(':')[1] as string, 'base64');
      expect(keys[0]).toEqual(Buffer.from(hkdfSync('sha256', ringKey, Buffer.alloc(0), 'webex-auth cookies', 32)));
      expect(vault.deriveKeys('cookies')[0]).toEqual(keys[0]);
      expect(vault.deriveKeys('csrf')[0]).not.toEqual(keys[0]);
      const ring = new KeyRing(`${TEST_KEY_2},${TEST_KEY}`);
      const both = ring.deriveKeys('cookies');
      expect(both).toHaveLength(2);
      expect(both[1]).toEqual(keys[0]);
      expect(both[0]).toEqual(new KeyRing(TEST_KEY_2).deriveKeys('cookies')[0]);
      expect(() => ring.deriveKeys('')).toThrow();
    });

    it('rotation re-encrypts integrations and connections only; sessions sealed under the old key still open', async () => {
      const integ = await vault.integrations.upsert(INTEGRATION);
      await grant(integ.id, 'p1');
      const s = await vault.sessions.create({ data: { a: 1 }, ttlMs: HOUR });
      await vault.sessions.addPending(
        s.id,
        { purpose: 'connect', integrationId: integ.id, pending: pendingAuth('R', now) },
        HOUR,
      );
      await vault.close();
      vault = await open(`${TEST_KEY_2},${TEST_KEY}`);
      const progress = await vault.rotateKeys();
      expect(progress).toEqual({ done: 2, total: 2 });
      expect(await vault.store.countNotUnderKey('test2')).toBe(0);
      expect((await vault.sessions.get(s.id))?.data).toEqual({ a: 1 });
      expect((await vault.sessions.takePending(s.id, 'R'))?.pending.codeVerifier).toBe('verifier-R');
    });
  });
});

describe.skipIf(!pgUp)('web sessions shared by two vaults on one PostgreSQL schema', () => {
  const schema = freshSchema('sessions');
  const vaults: VaultInternals[] = [];
  afterAll(async () => {
    for (const v of vaults) await v.close();
    await dropSchema(schema);
  });

  it('a session made by one instance is served by the other; a state is taken by exactly one', async () => {
    const config = testConfig({ DATABASE_URL: PG_URL, WEBEX_AUTH_KEYS: TEST_KEY });
    const a = await openVault(config, { schema, instanceId: 'A' });
    vaults.push(a);
    const b = await openVault(config, { schema, instanceId: 'B' });
    vaults.push(b);
    const s = await a.sessions.create({ accountId: 'acct_1', data: { x: 1 }, ttlMs: HOUR });
    expect(await b.sessions.get(s.id)).toEqual(s);
    const now = Date.now();
    for (let i = 0; i < 5; i++) {
      await a.sessions.addPending(
        s.id,
        { purpose: 'signin', integrationId: 'i', pending: pendingAuth(`S${i}`, now) },
        HOUR,
      );
      const takes = await Promise.all(
        Array.from({ length: 8 }, (_, j) => (j % 2 ? a : b).sessions.takePending(s.id, `S${i}`)),
      );
      expect(takes.filter(Boolean)).toHaveLength(1);
    }
    await b.sessions.destroy(s.id);
    expect(await a.sessions.get(s.id)).toBeUndefined();
  });
});
