/**
 * Upgrading a SQLite store at migration 009 that holds rows: migration 010 drops the connections_app_org and
 * connections_key_id indexes, and every row, key and query is as before.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import { sqliteAtMigration, tempDir } from './helpers.js';

const ROWS = [
  `INSERT INTO web_sessions (id_hash, account_id, data_enc, key_id, expires_at, created_at, updated_at)
   VALUES ('${'a1'.repeat(32)}', 'acct_A', 'v1:k1:sealed-a', 'k1', 9000, 100, 150)`,
  `INSERT INTO web_sessions (id_hash, account_id, data_enc, key_id, expires_at, created_at, updated_at)
   VALUES ('${'b2'.repeat(32)}', NULL, 'v1:k1:sealed-b', 'k1', 500, 110, 110)`,
  `INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_label, action, owner_id, target, address, detail)
   VALUES ('aud_1', 100, 'local', NULL, NULL, 'connect', 'local', 'conn_1', '127.0.0.1', 'Alice <a@example.com>')`,
  `INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_label, action, owner_id, target, address, detail)
   VALUES ('aud_2', 200, 'account', 'acct_A', 'Bob', 'key.create', 'acct_A', 'key_1', NULL, NULL)`,
  `INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_label, action, owner_id, target, address, detail)
   VALUES ('aud_3', 200, 'account', 'acct_A', 'Bob', 'key.revoke', 'acct_A', 'key_1', NULL, NULL)`,
  `INSERT INTO token_mints (connection_id, person_id, access_expires_at, minted_at) VALUES ('conn_1', 'p1', 5000, 10)`,
  `INSERT INTO token_mints (connection_id, person_id, access_expires_at, minted_at) VALUES ('conn_1', 'p1', 6000, 20)`,
  `INSERT INTO token_mints (connection_id, person_id, access_expires_at, minted_at) VALUES ('conn_2', 'p2', 7000, 30)`,
];

describe('unused indexes migration, SQLite (010)', () => {
  const { dir, cleanup } = tempDir();
  afterAll(cleanup);

  it('keeps the sessions, the audit log and the token mints of a store at 009, and their keys', async () => {
    const path = join(dir, 'at-009.db');
    sqliteAtMigration(path, 9, ROWS);

    const store = await openSqliteStore(path);
    try {
      expect(await store.getSession('a1'.repeat(32), 1000)).toEqual({
        idHash: 'a1'.repeat(32),
        accountId: 'acct_A',
        dataEnc: 'v1:k1:sealed-a',
        keyId: 'k1',
        expiresAt: 9000,
        createdAt: 100,
        updatedAt: 150,
      });
      // The expired one is still there until purged, by its expiry index.
      expect(await store.getSession('b2'.repeat(32), 1000)).toBeUndefined();
      expect(await store.purgeExpired(1000)).toBe(1);
      expect(await store.getSession('a1'.repeat(32), 1000)).toBeDefined();
      expect(await store.listAudit({ limit: 10 })).toEqual([
        expect.objectContaining({ id: 'aud_3', at: 200, action: 'key.revoke', actorId: 'acct_A', ownerId: 'acct_A' }),
        expect.objectContaining({ id: 'aud_2', at: 200, action: 'key.create', actorLabel: 'Bob', address: undefined }),
        {
          id: 'aud_1',
          at: 100,
          actorKind: 'local',
          actorId: undefined,
          actorLabel: undefined,
          action: 'connect',
          ownerId: 'local',
          target: 'conn_1',
          address: '127.0.0.1',
          detail: 'Alice <a@example.com>',
        },
      ]);
      // A page's cursor inside a millisecond, and a member's view, still read in (at, id) order.
      expect((await store.listAudit({ before: 200, beforeId: 'aud_3', limit: 10 })).map((r) => r.id)).toEqual([
        'aud_2',
        'aud_1',
      ]);
      expect((await store.listAudit({ ownerId: 'acct_A', limit: 10 })).map((r) => r.id)).toEqual(['aud_3', 'aud_2']);
      expect(await store.liveTokenMints('p1', 0)).toEqual({ count: 2, oldestExpiresAt: 5000 });
      expect(await store.liveTokenMints('p2', 0)).toEqual({ count: 1, oldestExpiresAt: 7000 });
      // The same (connection, expiry) is still one mint; a new expiry is another.
      const mint = { connectionId: 'conn_1', personId: 'p1', mintedAt: 40 };
      expect(await store.recordTokenMint({ ...mint, accessExpiresAt: 6000 })).toBe(false);
      expect(await store.recordTokenMint({ ...mint, accessExpiresAt: 8000 })).toBe(true);
      expect(await store.migrate()).toEqual([]);
    } finally {
      await store.close();
    }

    const db = new Database(path);
    try {
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").pluck().all();
      expect(indexes).toEqual(
        expect.arrayContaining([
          'web_sessions_expires_at',
          'audit_log_owner_at',
          'audit_log_actor_at',
          'token_mints_person',
        ]),
      );
      expect(indexes).not.toContain('connections_app_org');
      expect(indexes).not.toContain('connections_key_id');
      // Since 011 the audit log and the token mints are WITHOUT ROWID tables (one B-tree fewer per insert): the audit
      // log keyed by (at, id), the order it is read in, which replaced audit_log_at.
      expect(indexes).not.toContain('audit_log_at');
      const withoutRowid = (table: string) =>
        /WITHOUT ROWID/.test(String(db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get(table)));
      expect(withoutRowid('audit_log')).toBe(true);
      expect(withoutRowid('token_mints')).toBe(true);
      expect(() =>
        db.exec(`INSERT INTO audit_log (id, at, actor_kind, action) VALUES ('aud_1', 100, 'local', 'connect')`),
      ).toThrow(/UNIQUE/);
      expect(() =>
        db.exec(`INSERT INTO token_mints (connection_id, person_id, access_expires_at, minted_at)
                 VALUES ('conn_1', 'p1', 5000, 1)`),
      ).toThrow(/UNIQUE/);
      expect(() =>
        db.exec(
          `INSERT INTO web_sessions (id_hash, data_enc, key_id, expires_at, created_at, updated_at)
           VALUES ('${'a1'.repeat(32)}', 'x', 'k1', 1, 1, 1)`,
        ),
      ).toThrow(/UNIQUE/);
      expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
    } finally {
      db.close();
    }
  });
});
