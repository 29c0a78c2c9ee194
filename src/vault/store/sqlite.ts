/**
 * The SQLite store: better-sqlite3 (synchronous, so every statement is atomic in-process) in WAL mode with a busy
 * timeout, so that the CLI and the server can share one file across processes.
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { PACKAGE_ROOT } from '../../paths.js';
import { scopeCounters, scopesWritten, TABLE_SCOPES, type TableScope } from './change-scopes.js';
import { loadMigrations } from './migrations.js';
import { type Executor, type Row, SqlStore } from './sql.js';
import { rowsOf } from './sqlite-rows.js';
import type { Store } from './types.js';

/**
 * The compiled addon, handed to better-sqlite3 by path. Its default lookup (the `bindings` package) stats a dozen
 * candidate paths on every start, about 3 ms of `webex-auth token`, and cannot work where better-sqlite3's JavaScript
 * is bundled (the bin). Looked for where npm installs better-sqlite3: inside this package's node_modules, or beside
 * this package when it is itself a dependency; else resolved by Node. Undefined: let better-sqlite3 look.
 */
function nativeBinding(): string | undefined {
  const addon = (dir: string) => join(dir, 'build', 'Release', 'better_sqlite3.node');
  for (const dir of [
    join(PACKAGE_ROOT, 'node_modules', 'better-sqlite3'),
    join(dirname(PACKAGE_ROOT), 'better-sqlite3'),
  ]) {
    if (existsSync(addon(dir))) return addon(dir);
  }
  try {
    const path = addon(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')));
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Opens (creating if needed) the SQLite database at `path` and applies pending migrations. */
export async function openSqliteStore(path: string): Promise<Store> {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Created 0600 before SQLite opens it (SQLite would make it 0644 under the usual umask); its -wal and -shm files
    // take the database file's mode. An existing file keeps the mode its owner gave it.
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  }
  const addon = nativeBinding();
  const db = new Database(path, addon ? { nativeBinding: addon } : {});
  // One exec, not four db.pragma() calls (each prepares a statement): this runs on every CLI command.
  db.exec(
    'PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;',
  );
  const statements = new Map<string, Database.Statement>();
  /** The table scopes each write statement that names one may change (change-scopes.ts). */
  const scopesOf = new Map<Database.Statement, TableScope[]>();
  const prepare = (sql: string) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      // Rows come back as arrays, made into objects by rowsOf: better-sqlite3's own row objects set each column by
      // name through V8's API (sqlite-rows.ts).
      if (s.reader) s.raw(true);
      statements.set(sql, s);
      const scopes = s.readonly ? [] : scopesWritten(sql);
      if (scopes.length > 0) scopesOf.set(s, scopes);
    }
    return s;
  };
  // Change stamps for the vault's caches (Store.changeStamp). `PRAGMA data_version` changes when another connection
  // (another process) commits to the file: `remote` counts those changes. Our own writes bump `local` (data_version
  // does not count them), and those naming a scoped table its counter in `scoped` (change-scopes.ts); statements run
  // synchronously, so a write and its bump happen in one tick.
  // The pragma opens a read transaction (~5 % of the broker's token route if run on every call), so it is read once
  // per event-loop turn: `checked` is cleared by a setImmediate, which runs after the poll phase. Every request served
  // in a turn was read from its socket in that turn's poll phase, from data that had arrived before the poll began —
  // so a commit made before a request arrived is seen by that request.
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let seenVersion: unknown;
  let checked = false;
  const uncheck = () => {
    checked = false;
  };
  let remote = 0;
  let local = 0;
  /** This process's writes to each table scope's table (a subset of `local`). */
  const scoped = scopeCounters();
  /** Counts a write by this process: in `local`, and in the scopes of the tables it names. */
  const wrote = (s: Database.Statement) => {
    local++;
    const scopes = scopesOf.get(s);
    if (scopes) for (const scope of scopes) scoped[scope]++;
  };
  /** Anything may have changed (a rolled-back group, a migration): every cache reads again. */
  const wroteAll = () => {
    local++;
    for (const scope of TABLE_SCOPES) scoped[scope]++;
  };
  // Grouped writes (Store.writeTogether): one transaction stays open while any group runs, and statements of other
  // requests that run meanwhile (they share this connection) join it. Nothing is rolled back when a group's function
  // throws: what ran is committed, as it would have been statement by statement. SQLite itself may roll the whole
  // transaction back on an I/O or disk-full error: `lost` notes it, and the group that commits then fails.
  // A group never outlives the event-loop turn it began in: one whose function waits on real I/O (a timer, the network)
  // would hold SQLite's write lock, and every other process (the CLI, a second `serve`) would queue behind it. Its
  // transaction is committed at the next `setImmediate`, and its remaining statements commit one by one.
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  let groups = 0;
  /** Whether a transaction of ours (not a migration's) is open. */
  let open = false;
  let lost = false;
  const guarded = <T>(statement: () => T): T => {
    if (!open) return statement();
    try {
      return statement();
    } catch (err) {
      if (!db.inTransaction) lost = true;
      throw err;
    }
  };
  const endGroup = () => {
    open = false;
    const rolledBack = lost || !db.inTransaction;
    lost = false;
    if (rolledBack) {
      // Rows this process read inside the group may be gone: its caches must read again.
      wroteAll();
      throw new Error('SQLite rolled back a group of writes (an I/O or disk-full error)');
    }
    try {
      commit.run();
    } catch (err) {
      wroteAll();
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  };
  const endLateGroup = () => {
    if (open) endGroup();
  };
  const exec: Executor = {
    kind: 'sqlite',
    async all(sql, params = []) {
      const s = prepare(sql);
      if (!s.readonly) wrote(s);
      if (s.reader)
        return rowsOf(
          s,
          guarded(() => s.all(...params) as unknown[][]),
        );
      guarded(() => s.run(...params));
      return [];
    },
    async run(sql, params = []) {
      const s = prepare(sql);
      wrote(s);
      return guarded(() => s.run(...params).changes);
    },
    async writeTogether(fn) {
      // A migration holds its own transaction: its statements are committed by it.
      if (!open && db.inTransaction) return fn();
      if (!open) {
        begin.run();
        open = true;
        setImmediate(endLateGroup);
      }
      groups++;
      try {
        return await fn();
      } finally {
        if (--groups === 0 && open) endGroup();
      }
    },
    async hasTable(name) {
      return prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    },
    changeStamp(scope) {
      if (!checked) {
        checked = true;
        setImmediate(uncheck);
        const v = dataVersion.get();
        if (v !== seenVersion) {
          seenVersion = v;
          remote++;
        }
      }
      // Two non-decreasing counters: their sum changes whenever either does.
      if (scope === 'connections') return remote + local;
      return scope === 'apiKeys' ? remote : remote + scoped[scope];
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
        // A migration may have changed the columns a cached `SELECT *` names, and any row.
        statements.clear();
        scopesOf.clear();
        wroteAll();
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
