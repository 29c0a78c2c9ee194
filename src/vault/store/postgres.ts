/**
 * The PostgreSQL store over a `pg` Pool. Statements run in autocommit: each racing write is one UPDATE whose WHERE
 * is re-checked under the row lock (READ COMMITTED), which is what compare-and-set needs. Migrations run under a
 * transaction-scoped advisory lock so several instances can start at once.
 */
import pg from 'pg';
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
const prepared = new Map<string, { name: string; text: string }>();
function statement(sql: string, values: unknown[]): { name: string; text: string; values: unknown[] } {
  let s = prepared.get(sql);
  if (!s) {
    s = { name: `wa_${prepared.size + 1}`, text: numbered(sql) };
    prepared.set(sql, s);
  }
  return { ...s, values };
}

/** An arbitrary constant identifying the vault's migration lock. */
const MIGRATION_LOCK = 7_172_025;

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** Schema to use (created if missing) instead of the connection's default `search_path`. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
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
  const exec: Executor = {
    kind: 'postgres',
    async all(sql, params = []) {
      return (await pool.query(statement(sql, params))).rows as Row[];
    },
    async run(sql, params = []) {
      return (await pool.query(statement(sql, params))).rowCount ?? 0;
    },
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
      await pool.end();
    },
  };
  try {
    if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const store = new SqlStore(exec, loadMigrations('postgres'));
    await store.migrate();
    return store;
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
