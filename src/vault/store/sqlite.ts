/**
 * The SQLite store: better-sqlite3 (synchronous, so every statement is atomic in-process) in WAL mode with a busy
 * timeout, so that the CLI and the server can share one file across processes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { loadMigrations } from './migrations.js';
import { type Executor, type Row, SqlStore } from './sql.js';
import type { Store } from './types.js';

/** Opens (creating if needed) the SQLite database at `path` and applies pending migrations. */
export async function openSqliteStore(path: string): Promise<Store> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  // Change stamp for the vault's caches: `PRAGMA data_version` changes when another connection (another process)
  // commits to the file; our own writes bump `epoch` directly (data_version does not count them). Statements run
  // synchronously, so a write and its bump happen in the same tick: no read can interleave.
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let seenVersion: unknown;
  let epoch = 0;
  const exec: Executor = {
    kind: 'sqlite',
    async all(sql, params = []) {
      const s = prepare(sql);
      if (!s.readonly) epoch++;
      return s.reader ? (s.all(...params) as Row[]) : (s.run(...params), []);
    },
    async run(sql, params = []) {
      epoch++;
      return prepare(sql).run(...params).changes;
    },
    changeStamp() {
      const v = dataVersion.get();
      if (v !== seenVersion) {
        seenVersion = v;
        epoch++;
      }
      return epoch;
    },
    async migrationLock(fn) {
      // BEGIN IMMEDIATE takes the write lock, so two processes starting together apply each migration once.
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(async (sql, params) => {
          if (params?.length) return exec.all(sql, params);
          if (/^\s*SELECT/i.test(sql)) return db.prepare(sql).all() as Row[];
          db.exec(sql);
          return [];
        });
        db.exec('COMMIT');
        return result;
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    },
    async close() {
      db.close();
    },
  };
  const store = new SqlStore(exec, loadMigrations('sqlite'));
  await store.migrate();
  return store;
}
