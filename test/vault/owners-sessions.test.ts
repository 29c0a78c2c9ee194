/**
 * Team mode in the vault: owners of integrations, connections and API keys (the configured integration adopting the
 * local operator's row), accounts, store-backed web sessions with their pending authorizations, and derived keys.
 */
import { hash, hkdfSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PendingAuthorization } from '../../src/oauth/types.js';
import { CONFIGURED_OWNER, KeyRing, LOCAL_OPERATOR, openVault, type VaultInternals } from '../../src/vault/index.js';
import { pendingKey } from '../../src/vault/sessions.js';
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
/** Two browsers' flow ids (32 bytes, base64url). */
const FLOW = 'F'.repeat(43);
const OTHER_FLOW = 'G'.repeat(43);

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

    it('a session or pending authorization sealed under a key no longer in the ring opens no more; under an older ring key it still does', async () => {
      const s = await vault.sessions.create({ data: { n: 1 }, ttlMs: HOUR });
      const sealed = vault.sessions.sealPending(
        FLOW,
        { purpose: 'signin', integrationId: 'int_x', pending: pendingAuth('ST', now) },
        HOUR,
      );
      await vault.close();
      vault = await open(`${TEST_KEY_2},${TEST_KEY}`);
      expect((await vault.sessions.get(s.id))?.data).toEqual({ n: 1 });
      expect(vault.sessions.openPending(FLOW, pendingKey('ST'), sealed)?.pending.state).toBe('ST');
      await vault.close();
      vault = await open(TEST_KEY_2);
      expect(await vault.sessions.get(s.id)).toBeUndefined();
      expect(await vault.sessions.takePending(FLOW, 'ST', sealed)).toBeUndefined();
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

    it('rotates a session: a new id with the same data; the old id stops working', async () => {
      const s = await vault.sessions.create({ data: { step: 'signin' }, ttlMs: HOUR });
      now += MINUTE;
      s.accountId = 'acct_1';
      const r = await vault.sessions.rotate(s, 2 * HOUR);
      expect(r.id).not.toBe(s.id);
      expect(r).toMatchObject({ accountId: 'acct_1', data: { step: 'signin' }, expiresAt: now + 2 * HOUR });
      expect(r.createdAt).toBe(s.createdAt);
      expect(await vault.sessions.get(s.id)).toBeUndefined();
      expect(await vault.sessions.get(r.id)).toEqual(r);
    });

    it('seals a pending authorization for its flow id and key: nothing stored, nothing readable, opened only there', async () => {
      const pending = pendingAuth('STATE-1', now, 'http://localhost:8080/oauth/callback?x=1');
      const entry = { purpose: 'connect' as const, integrationId: 'int_1', pending, ownerId: 'acct_1', returnTo: '/x' };
      const sealed = vault.sessions.sealPending(FLOW, entry, 10 * MINUTE);
      expect(sealed).not.toContain('verifier-STATE-1');
      expect(sealed).not.toContain('STATE-1');
      expect(await vault.store.getTakenState(sha256('STATE-1'), sha256(FLOW))).toBeUndefined();
      const key = pendingKey('STATE-1');
      expect(key).toMatch(/^[0-9a-f]{16}$/);
      expect(vault.sessions.openPending(FLOW, key, sealed)).toEqual({
        ...entry,
        redirectPath: '/oauth/callback',
        expiresAt: now + 10 * MINUTE,
      });
      // Another browser's flow id, another key (the cookie renamed), an altered value, junk: nothing opens.
      expect(vault.sessions.openPending(OTHER_FLOW, key, sealed)).toBeUndefined();
      expect(vault.sessions.openPending(FLOW, pendingKey('STATE-2'), sealed)).toBeUndefined();
      const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
      expect(vault.sessions.openPending(FLOW, key, flipped)).toBeUndefined();
      for (const junk of [undefined, '', 'v1:k:a:b:c:d', 'x'.repeat(5000)]) {
        expect(vault.sessions.openPending(FLOW, key, junk)).toBeUndefined();
      }
      expect(vault.sessions.openPending('not-a-flow-id', key, sealed)).toBeUndefined();
      expect(vault.sessions.openPending(FLOW, 'not-a-key', sealed)).toBeUndefined();
      // Opened by another process sharing the ring (nothing held in clear there).
      const other = await open();
      try {
        expect(other.sessions.openPending(FLOW, key, sealed)?.pending).toEqual(pending);
      } finally {
        await other.close();
      }
      // Until it expires.
      now += 10 * MINUTE;
      expect(vault.sessions.openPending(FLOW, key, sealed)).toBeUndefined();
      expect(await vault.sessions.takePending(FLOW, 'STATE-1', sealed)).toBeUndefined();
    });

    it('takes a pending authorization at most once, in its own browser, for its own state, before it expires', async () => {
      const pending = pendingAuth('STATE-1', now, 'http://localhost:8080/oauth/callback?x=1');
      const sealed = vault.sessions.sealPending(
        FLOW,
        { purpose: 'connect', integrationId: 'int_1', pending },
        10 * MINUTE,
      );
      expect(await vault.sessions.takePending(OTHER_FLOW, 'STATE-1', sealed)).toBeUndefined();
      expect(await vault.sessions.takePending(FLOW, 'STATE-2', sealed)).toBeUndefined();
      expect(await vault.sessions.findTaken(FLOW, 'STATE-1')).toBeUndefined();
      expect(await vault.sessions.takePending(FLOW, 'STATE-1', sealed)).toEqual({
        purpose: 'connect',
        integrationId: 'int_1',
        pending,
        ownerId: undefined,
      });
      // The same cookie again (a reload, a copy): the state is taken.
      expect(await vault.sessions.takePending(FLOW, 'STATE-1', sealed)).toBeUndefined();
      const row = await vault.store.getTakenState(sha256('STATE-1'), sha256(FLOW));
      expect(row).toEqual({
        stateHash: sha256('STATE-1'),
        browserHash: sha256(FLOW),
        expiresAt: now + 10 * MINUTE,
        connectionId: undefined,
      });
      expect(await vault.sessions.findTaken(FLOW, 'STATE-1')).toEqual({ connectionId: undefined });
      expect(await vault.sessions.findTaken(OTHER_FLOW, 'STATE-1')).toBeUndefined();
      await vault.sessions.completePending('STATE-1', 'conn_1');
      expect(await vault.sessions.findTaken(FLOW, 'STATE-1')).toEqual({ connectionId: 'conn_1' });

      const old = vault.sessions.sealPending(
        FLOW,
        { purpose: 'signin', integrationId: 'int_1', pending: pendingAuth('OLD', now) },
        MINUTE,
      );
      now += MINUTE;
      expect(await vault.sessions.takePending(FLOW, 'OLD', old)).toBeUndefined();
      expect(await vault.sessions.findTaken(FLOW, 'OLD')).toBeUndefined();
    });

    it('purging deletes expired sessions, and taken states a day after they expired', async () => {
      const live = await vault.sessions.create({ ttlMs: 3 * HOUR });
      const dead = await vault.sessions.create({ ttlMs: HOUR });
      const sealed = vault.sessions.sealPending(
        FLOW,
        { purpose: 'connect', integrationId: 'i', pending: pendingAuth('P1', now) },
        MINUTE,
      );
      expect(await vault.sessions.takePending(FLOW, 'P1', sealed)).toBeDefined();
      now += 2 * HOUR;
      expect(await vault.sessions.purgeExpired()).toBe(1);
      expect(await vault.sessions.get(live.id)).toBeDefined();
      expect(await vault.store.getSession(sha256(dead.id), 0)).toBeUndefined();
      // A reload within the day still finds its state taken; a day after its expiry the row is gone.
      expect(await vault.sessions.findTaken(FLOW, 'P1')).toBeDefined();
      now += 24 * HOUR;
      expect(await vault.sessions.purgeExpired()).toBe(2);
      expect(await vault.sessions.findTaken(FLOW, 'P1')).toBeUndefined();
      await vault.sessions.destroy('not-a-session');
    });

    it('rejects a pending authorization it could not serve', async () => {
      const entry = { purpose: 'connect' as const, integrationId: 'i', pending: pendingAuth('X', now) };
      expect(() => vault.sessions.sealPending('nope', entry, HOUR)).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
      expect(() =>
        vault.sessions.sealPending(FLOW, { ...entry, pending: { ...entry.pending, redirectUri: 'not a url' } }, HOUR),
      ).toThrow(expect.objectContaining({ code: 'invalid_request' }));
      expect(() => vault.sessions.sealPending(FLOW, { ...entry, purpose: 'other' as 'connect' }, HOUR)).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
      expect(() =>
        vault.sessions.sealPending(FLOW, { ...entry, pending: { ...entry.pending, state: '' } }, HOUR),
      ).toThrow(expect.objectContaining({ code: 'invalid_request' }));
      expect(() => vault.sessions.sealPending(FLOW, entry, 0)).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
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

    it('rotation re-encrypts integrations and connections only; sessions and pending authorizations sealed under the old key still open', async () => {
      const integ = await vault.integrations.upsert(INTEGRATION);
      await grant(integ.id, 'p1');
      const s = await vault.sessions.create({ data: { a: 1 }, ttlMs: HOUR });
      const sealed = vault.sessions.sealPending(
        FLOW,
        { purpose: 'connect', integrationId: integ.id, pending: pendingAuth('R', now) },
        HOUR,
      );
      await vault.close();
      vault = await open(`${TEST_KEY_2},${TEST_KEY}`);
      const progress = await vault.rotateKeys();
      expect(progress).toEqual({ done: 2, total: 2 });
      expect(await vault.store.countNotUnderKey('test2')).toBe(0);
      expect((await vault.sessions.get(s.id))?.data).toEqual({ a: 1 });
      expect((await vault.sessions.takePending(FLOW, 'R', sealed))?.pending.codeVerifier).toBe('verifier-R');
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
      const sealed = a.sessions.sealPending(
        FLOW,
        { purpose: 'signin', integrationId: 'i', pending: pendingAuth(`S${i}`, now) },
        HOUR,
      );
      // The same cookie sent to both instances at once (a double click, a reload racing the first answer).
      const takes = await Promise.all(
        Array.from({ length: 8 }, (_, j) => (j % 2 ? a : b).sessions.takePending(FLOW, `S${i}`, sealed)),
      );
      expect(takes.filter(Boolean)).toHaveLength(1);
    }
    await b.sessions.destroy(s.id);
    expect(await a.sessions.get(s.id)).toBeUndefined();
  });
});
