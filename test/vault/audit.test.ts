/**
 * The vault's audit log (vault/audit.ts) on a real SQLite store, and on PostgreSQL when it is up: record and list
 * (newest first, a member's view, since, action, the page cursor), retention, and the boundary that keeps secrets
 * (a broker key, a token, a client secret) and control characters out of the log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_LIMITS, type AuditLog, looksLikeSecret, plainText } from '../../src/vault/audit.js';
import { type AuditEntry, openVault, VaultError, type VaultInternals } from '../../src/vault/index.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, TEST_KEY, tempDir, testConfig } from './helpers.js';

const pgUp = await postgresAvailable();
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1);

type Entry = Omit<AuditEntry, 'id' | 'at'>;
const alice = { kind: 'account', id: 'acct_alice', label: 'alice@example.com' } as const;
const bob = { kind: 'account', id: 'acct_bob', label: 'bob@example.com' } as const;

function suite(
  name: string,
  open: (
    clock: () => number,
    env: Record<string, string>,
  ) => Promise<{ vault: VaultInternals; close: () => Promise<void> }>,
) {
  describe(`audit log (${name})`, () => {
    let now: number;
    let vault: VaultInternals;
    let close: () => Promise<void>;
    beforeEach(async () => {
      now = T0;
      ({ vault, close } = await open(() => now, { AUDIT_RETENTION_DAYS: '30' }));
    });
    afterEach(async () => {
      await close?.();
    });

    /** Records `entry` at `at`. */
    async function at(time: number, entry: Entry) {
      now = time;
      await vault.audit.record(entry);
    }

    it('keeps the entries of an account whose email has a long local part (a plus-address, a team alias)', async () => {
      for (const email of [
        `alice+${'a'.repeat(40)}@corp.example`,
        'first_last_platform-engineering-team-2024@corp.example',
      ]) {
        await at(T0 + 1, {
          actor: { kind: 'account', id: 'acct_long', label: email },
          action: 'signin',
          ownerId: 'acct_long',
        });
      }
      expect((await vault.audit.list({ ownerId: 'acct_long' })).map((e) => e.actor.label)).toHaveLength(2);
      await expect(
        at(T0 + 2, {
          actor: { kind: 'account', id: 'acct_long', label: `wak_${'A'.repeat(43)}@x.example` },
          action: 'signin',
        }),
      ).rejects.toThrow(/actor.label/);
    });

    it('records entries with an aud_ id and the vault time, and lists them newest first', async () => {
      await at(T0 + 1, { actor: alice, action: 'signin', ownerId: 'acct_alice', address: '192.0.2.1' });
      await at(T0 + 2, {
        actor: alice,
        action: 'connect',
        ownerId: 'acct_alice',
        target: 'conn_1',
        address: '192.0.2.1',
        detail: 'Alice Example',
      });
      await at(T0 + 3, { actor: { kind: 'cli' }, action: 'connection.delete', target: 'conn_9', address: 'cli' });
      const all = await vault.audit.list();
      expect(all.map((e) => e.action)).toEqual(['connection.delete', 'connect', 'signin']);
      expect(all[1]).toEqual({
        id: expect.stringMatching(/^aud_[A-Za-z0-9_-]{16}$/),
        at: T0 + 2,
        actor: alice,
        action: 'connect',
        ownerId: 'acct_alice',
        target: 'conn_1',
        address: '192.0.2.1',
        detail: 'Alice Example',
      });
      // Fields an entry lacks are absent, not null.
      expect(all[0]).toEqual({
        id: expect.any(String),
        at: T0 + 3,
        actor: { kind: 'cli' },
        action: 'connection.delete',
        target: 'conn_9',
        address: 'cli',
      });
      expect(new Set(all.map((e) => e.id)).size).toBe(3);
    });

    it("gives a member the entries of their things and of their own actions, nobody else's", async () => {
      await at(T0 + 1, { actor: alice, action: 'signin', ownerId: 'acct_alice' });
      await at(T0 + 2, { actor: bob, action: 'signin', ownerId: 'acct_bob' });
      // An admin deleted alice's connection: hers (owner), not the admin's unless the admin is the actor.
      await at(T0 + 3, {
        actor: { kind: 'admin-token' },
        action: 'connection.delete',
        ownerId: 'acct_alice',
        target: 'conn_a',
      });
      // Alice acted on something she does not own (e.g. as an admin): hers too (actor).
      await at(T0 + 4, { actor: alice, action: 'connection.delete', ownerId: 'acct_bob', target: 'conn_b' });
      await at(T0 + 5, { actor: { kind: 'anonymous' }, action: 'signin.refused', detail: 'other.example' });

      const mine = await vault.audit.list({ ownerId: 'acct_alice' });
      expect(mine.map((e) => [e.action, e.target])).toEqual([
        ['connection.delete', 'conn_b'],
        ['connection.delete', 'conn_a'],
        ['signin', undefined],
      ]);
      const bobs = await vault.audit.list({ ownerId: 'acct_bob' });
      expect(bobs.map((e) => e.at)).toEqual([T0 + 4, T0 + 2]);
      expect(await vault.audit.list({ ownerId: 'acct_nobody' })).toEqual([]);
      expect(await vault.audit.list()).toHaveLength(5);
    });

    it('filters by since, action and limit, and pages by (at, id) without losing entries of one millisecond', async () => {
      for (let i = 0; i < 5; i++) await at(T0 + i * DAY, { actor: alice, action: 'signin', ownerId: 'acct_alice' });
      await at(T0 + 2 * DAY, { actor: alice, action: 'signout', ownerId: 'acct_alice' });
      // The vault's list takes the page's filters too (vault/audit.ts AuditFilter).
      const log = vault.audit as AuditLog;
      expect((await vault.audit.list({ since: T0 + 3 * DAY })).map((e) => e.at)).toEqual([T0 + 4 * DAY, T0 + 3 * DAY]);
      expect(await vault.audit.list({ limit: 2 })).toHaveLength(2);
      expect((await log.list({ action: 'signout' })).map((e) => e.at)).toEqual([T0 + 2 * DAY]);
      expect((await log.list({ before: T0 + 2 * DAY })).map((e) => e.at)).toEqual([T0 + DAY, T0]);

      // Seven entries in one millisecond, read three at a time through the cursor: each exactly once.
      for (let i = 0; i < 7; i++) await at(T0 + 10 * DAY, { actor: bob, action: 'key.create', ownerId: 'acct_bob' });
      const seen: string[] = [];
      let cursor: { before?: number; beforeId?: string } = {};
      for (;;) {
        const page = await log.list({ ownerId: 'acct_bob', limit: 3, ...cursor });
        seen.push(...page.map((e) => e.id));
        const last = page.at(-1);
        if (page.length < 3 || !last) break;
        cursor = { before: last.at, beforeId: last.id };
      }
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
    });

    it('purges entries older than AUDIT_RETENTION_DAYS, and only those', async () => {
      await at(T0, { actor: alice, action: 'signin', ownerId: 'acct_alice' });
      await at(T0 + 20 * DAY, { actor: alice, action: 'signout', ownerId: 'acct_alice' });
      now = T0 + 30 * DAY;
      expect(await vault.audit.purge()).toBe(0); // exactly 30 days old: kept
      now = T0 + 30 * DAY + 1;
      expect(await vault.audit.purge()).toBe(1);
      expect((await vault.audit.list()).map((e) => e.action)).toEqual(['signout']);
      now = T0 + 51 * DAY;
      expect(await vault.audit.purge()).toBe(1);
      expect(await vault.audit.list()).toEqual([]);
    });

    it('refuses a detail that looks like a secret, and anything that is not short plain text', async () => {
      const apiKey = `wak_${Buffer.alloc(32, 3).toString('base64url')}`;
      const accessToken = `${Buffer.alloc(48, 0xa7).toString('base64')}_PF84_ffffffff`;
      const hexSecret = 'f'.repeat(40);
      const refused: [string, Entry][] = [
        ['a broker key', { actor: alice, action: 'key.create', detail: `made ${apiKey}` }],
        ['a key marker', { actor: alice, action: 'key.create', detail: 'key wak_short' }],
        ['an access token', { actor: alice, action: 'connect', detail: `token=${accessToken}` }],
        ['a hex secret', { actor: alice, action: 'integration.configure', detail: `secret ${hexSecret}` }],
        ['a token as target', { actor: alice, action: 'connect', target: accessToken }],
        ['a key as label', { actor: { kind: 'key', id: 'key_1', label: apiKey }, action: 'refresh.forced' }],
        ['a control character', { actor: alice, action: 'connect', detail: 'Eve\u001b[2J' }],
        ['a C1 control', { actor: alice, action: 'connect', detail: 'Eve\u009b2J' }],
        ['a bidi override', { actor: alice, action: 'connect', detail: 'Eve\u202egnp.exe' }],
        ['a long detail', { actor: alice, action: 'connect', detail: 'word '.repeat(101) }],
        ['a long address', { actor: alice, action: 'signin', address: '1'.repeat(101) }],
        ['an unknown action', { actor: alice, action: 'drop.tables' as never }],
        ['an unknown actor', { actor: { kind: 'root' as never }, action: 'signin' }],
        ['no actor', { action: 'signin' } as never],
        ['a non-string detail', { actor: alice, action: 'signin', detail: 42 as never }],
      ];
      for (const [what, entry] of refused) {
        const error = await vault.audit.record(entry).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, what).toBeInstanceOf(VaultError);
        expect((error as VaultError).code, what).toBe('invalid_request');
        // The error names the field, never its value.
        expect((error as Error).message, what).not.toContain('wak_A');
        expect((error as Error).message, what).not.toContain(accessToken.slice(0, 20));
      }
      expect(await vault.audit.list()).toEqual([]);
      // What is fine: a key's short prefix as a label, a plain note at the limit, an IPv6 address.
      await vault.audit.record({
        actor: { kind: 'key', id: 'key_abc', label: 'wak_AbCd' },
        action: 'refresh.forced',
        target: 'conn_1',
        address: '2001:db8::1',
        detail: 'permissions: token, refresh, proxy',
      });
      await vault.audit.record({ actor: alice, action: 'connect', detail: 'x '.repeat(250).trim() });
      expect(await vault.audit.list()).toHaveLength(2);
    });

    it('refuses a bad filter with invalid_request', async () => {
      for (const filter of [{ limit: 0 }, { limit: 1.5 }, { since: Number.NaN }, { action: 'nope' as never }]) {
        await expect((vault.audit as AuditLog).list(filter)).rejects.toMatchObject({ code: 'invalid_request' });
      }
      await expect(vault.audit.list({ limit: 1_000_000 })).resolves.toEqual([]);
    });
  });
}

suite('sqlite', async (clock, env) => {
  const t = tempDir();
  const vault = await openVault(
    testConfig({ WEBEX_AUTH_DB: join(t.dir, 'vault.db'), WEBEX_AUTH_KEYS: TEST_KEY, ...env }),
    {
      clock,
    },
  );
  return {
    vault,
    close: async () => {
      // No secret reached the database file, whatever was refused.
      await vault.close();
      expect(readFileSync(join(t.dir, 'vault.db')).includes('wak_AwMD')).toBe(false);
      t.cleanup();
    },
  };
});

describe.skipIf(!pgUp)('postgres', () => {
  suite('postgres', async (clock, env) => {
    const schema = freshSchema('audit');
    const vault = await openVault(testConfig({ DATABASE_URL: PG_URL, WEBEX_AUTH_KEYS: TEST_KEY, ...env }), {
      clock,
      schema,
      watchChanges: false,
    });
    return {
      vault,
      close: async () => {
        await vault.close();
        await dropSchema(schema);
      },
    };
  });
});

describe('plain text and secret shapes', () => {
  it('makes Webex text one plain line, cut to the limit', () => {
    expect(plainText('Eve\u001b[31m Red\u0007\nLine\u202e\u009b2J')).toBe('Eve Red Line');
    expect(plainText('a'.repeat(600))).toHaveLength(AUDIT_LIMITS.detail);
    expect(plainText('abcdef', 4)).toBe('abc…');
  });

  it('knows a key, a token and a hex digest from a note', () => {
    expect(looksLikeSecret(`wak_${'A'.repeat(43)}`)).toBe(true);
    expect(looksLikeSecret('x'.repeat(39))).toBe(false);
    expect(looksLikeSecret('x'.repeat(40))).toBe(true);
    expect(looksLikeSecret('0123456789abcdef'.repeat(3))).toBe(true);
    expect(looksLikeSecret('Accounts of other.example may not sign in')).toBe(false);
    expect(looksLikeSecret('permissions: token, refresh, proxy, delete, guests')).toBe(false);
  });
});
