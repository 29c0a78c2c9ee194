/**
 * The PostgreSQL store over a `pg` Pool. Statements run in autocommit: each racing write is one UPDATE whose WHERE
 * is re-checked under the row lock (READ COMMITTED), which is what compare-and-set needs. Migrations run under a
 * transaction-scoped advisory lock so several instances can start at once.
 */
import pg from 'pg';
import {
  type ChangeScope,
  SCOPED_TABLES,
  scopeCounters,
  scopesWritten,
  TABLE_SCOPES,
  type TableScope,
} from './change-scopes.js';
import { loadMigrations } from './migrations.js';
import { type Executor, type Row, SqlStore } from './sql.js';
import type { Store } from './types.js';

/** Turns `?` placeholders into `$1…$n` (our SQL has no `?` inside string literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * Named (prepared) statements: pg prepares each once per pooled connection and then only binds and executes, so
 * PostgreSQL does not parse and plan the same few statements on every request (bench/broker.mjs).
 */
interface Prepared {
  name: string;
  text: string;
  write: boolean;
  /** The table scopes a write may change (change-scopes.ts). */
  scopes: TableScope[];
}
const prepared = new Map<string, Prepared>();
function statement(sql: string): Prepared {
  let s = prepared.get(sql);
  if (!s) {
    const write = !/^\s*SELECT\b/i.test(sql);
    s = { name: `wa_${prepared.size + 1}`, text: numbered(sql), write, scopes: write ? scopesWritten(sql) : [] };
    prepared.set(sql, s);
  }
  return s;
}

/**
 * The channel migration 003's triggers notify on every write to `connections` and on API-key revocations, migration
 * 012's on every write to the table scopes' tables (payload: `<schema>.<table>`).
 */
const CHANGES_CHANNEL = 'webex_auth_changes';
/** Longest wait between attempts to listen again after the listening connection was lost. */
const MAX_RELISTEN_MS = 30_000;

/**
 * The change stamp of a PostgreSQL store ({@link Store.changeStamp}): `local` counts this store's writes (bumped when
 * one is sent and again when it completes, so a read overlapping it cannot be cached as current), `remote` counts
 * change notifications for our schema (any process's writes, our own included) and every loss of the listening
 * connection. A table scope ({@link TableScope}) counts the same two things for its own table only: `scoped` this
 * store's writes naming it, `scopedRemote` its notifications and the losses. While not listening the stamp is
 * undefined and callers must not trust cached rows: a write in another process would go unnoticed.
 */
function changeWatch(connectionString: string, schema: string | undefined) {
  let local = 0;
  let remote = 0;
  let keys = 0;
  const scoped = scopeCounters();
  const scopedRemote = scopeCounters();
  /** The table scope of each notification payload's table name. */
  const scopeOfTable = new Map(TABLE_SCOPES.map((scope) => [SCOPED_TABLES[scope] as string, scope]));
  const moveAllScopes = () => {
    for (const scope of TABLE_SCOPES) scopedRemote[scope]++;
  };
  let listening = false;
  let closed = false;
  let current: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = 1_000;

  function lost(client: pg.Client) {
    if (client !== current) return;
    current = undefined;
    listening = false;
    remote++;
    keys++;
    moveAllScopes();
    client.end().catch(() => {});
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void listen();
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, MAX_RELISTEN_MS);
  }

  async function listen(): Promise<void> {
    // keepAlive: a connection cut without a reset (a dead peer) is noticed by TCP keep-alive, not only at the next
    // query; until then a cached row may be stale, which the vault's cache age bound covers.
    const client = new pg.Client({
      connectionString,
      keepAlive: true,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    current = client;
    client.on('error', () => lost(client));
    client.on('end', () => lost(client));
    try {
      await client.connect();
      const mine = String((await client.query('SELECT current_schema() AS s')).rows[0]?.s);
      client.on('notification', (n) => {
        if (n.channel !== CHANGES_CHANNEL) return;
        if (n.payload === `${mine}.connections`) remote++;
        else if (n.payload === `${mine}.api_keys`) keys++;
        else if (n.payload?.startsWith(`${mine}.`)) {
          const scope = scopeOfTable.get(n.payload.slice(mine.length + 1));
          if (scope) scopedRemote[scope]++;
        }
      });
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      if (closed || client !== current) {
        await client.end().catch(() => {});
        return;
      }
      remote++;
      keys++;
      moveAllScopes();
      listening = true;
      delay = 1_000;
    } catch {
      lost(client);
    }
  }

  return {
    listen,
    stamp(scope: ChangeScope): number | undefined {
      if (!listening) return undefined;
      if (scope === 'connections') return local + remote;
      return scope === 'apiKeys' ? keys : scoped[scope] + scopedRemote[scope];
    },
    /** Wraps a statement: bumps `local`, and the counters of the table scopes it names, around a write. */
    async around<T>(s: Prepared, run: () => Promise<T>): Promise<T> {
      if (!s.write) return run();
      const bump = () => {
        local++;
        for (const scope of s.scopes) scoped[scope]++;
      };
      bump();
      try {
        return await run();
      } finally {
        bump();
      }
    },
    async close() {
      closed = true;
      listening = false;
      if (retry) clearTimeout(retry);
      const client = current;
      current = undefined;
      await client?.end().catch(() => {});
    },
  };
}

/** An arbitrary constant identifying the vault's migration lock. */
const MIGRATION_LOCK = 7_172_025;

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** Schema to use (created if missing) instead of the connection's default `search_path`. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /**
   * Listen for change notifications on a connection of its own (default true), so that the vault's caches can trust
   * what they hold. A one-shot process (a CLI command) passes false: it caches nothing worth a connection.
   */
  watchChanges?: boolean;
}

/** Connects to PostgreSQL at `connectionString` and applies pending migrations. */
export async function openPostgresStore(connectionString: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error('invalid schema name');
  // The schema goes in the startup packet (`options`), so every pooled connection uses it from its first query.
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const watch = changeWatch(connectionString, schema);
  /** Runs one statement as a named prepared statement, counting it as a write for the change stamp if it is one. */
  const query = (sql: string, params: unknown[]) => {
    const s = statement(sql);
    return watch.around(s, () => pool.query({ name: s.name, text: s.text, values: params }));
  };
  const exec: Executor = {
    kind: 'postgres',
    async all(sql, params = []) {
      return (await query(sql, params)).rows as Row[];
    },
    async run(sql, params = []) {
      return (await query(sql, params)).rowCount ?? 0;
    },
    async hasTable(name) {
      return (await query('SELECT to_regclass(?) IS NOT NULL AS present', [name])).rows[0]?.present === true;
    },
    changeStamp: watch.stamp,
    async migrationLock(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        const result = await fn(async (sql, params) => (await client.query(numbered(sql), params ?? [])).rows as Row[]);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await watch.close();
      await pool.end();
    },
  };
  try {
    if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const store = new SqlStore(exec, loadMigrations('postgres'));
    await store.migrate();
    // After the migrations (the trigger exists). A failure here only leaves the caches off until a retry listens.
    if (options.watchChanges !== false) await watch.listen();
    return store;
  } catch (err) {
    await watch.close();
    await pool.end().catch(() => {});
    throw err;
  }
}
