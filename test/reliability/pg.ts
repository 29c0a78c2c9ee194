/**
 * PostgreSQL for the reliability and security suites: availability (skip unless REQUIRE_POSTGRES=1), a fresh schema
 * per run, and the environment that points a server process at it (`PGOPTIONS` sets the schema's search_path).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
// The machine's test database and its availability check are the vault suite's: one definition for every suite.
import { PG_URL, postgresAvailable } from '../vault/helpers.js';

export { PG_URL, postgresAvailable };

/** Runs one statement. */
export async function pgQuery<T = Record<string, unknown>>(sql: string, params: unknown[] = [], url = PG_URL) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Creates a fresh schema; returns its name and its drop. */
export async function freshSchema(prefix: string, url = PG_URL) {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await pgQuery(`CREATE SCHEMA ${name}`, [], url);
  return { name, drop: () => pgQuery(`DROP SCHEMA IF EXISTS ${name} CASCADE`, [], url).then(() => undefined) };
}

/** Environment for a server process that stores in `schema`. */
export function pgEnv(schema: string, url = PG_URL): Record<string, string> {
  return { DATABASE_URL: url, PGOPTIONS: `-c search_path=${schema}` };
}
