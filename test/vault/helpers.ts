/**
 * Test helpers: a temp SQLite path, and PostgreSQL with a fresh schema per run. PostgreSQL tests skip when the
 * server is down, unless REQUIRE_POSTGRES=1, when they fail.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config.js';
import type { TokenSet } from '../../src/oauth/types.js';
import { loadMigrations } from '../../src/vault/store/migrations.js';
import type { ConnectionRow, IntegrationRow } from '../../src/vault/store/types.js';

/**
 * Leaves at `path` a SQLite database as an older release left it: the SQLite migrations up to `lastId` applied and
 * recorded in `vault_migrations`, then `rows` (INSERT statements) run. Opening it as a store applies the rest.
 */
export function sqliteAtMigration(path: string, lastId: number, rows: readonly string[] = []): void {
  const db = new Database(path);
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;');
    db.exec('CREATE TABLE vault_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    for (const m of loadMigrations('sqlite').filter((m) => m.id <= lastId)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO vault_migrations (id, name, applied_at) VALUES (?, ?, 0)').run(m.id, m.name);
    }
    for (const sql of rows) db.exec(sql);
  } finally {
    db.close();
  }
}

/** The test database of the machine's PostgreSQL. */
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True when PostgreSQL answers; throws when it does not and REQUIRE_POSTGRES=1. */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (err) {
    if (process.env.REQUIRE_POSTGRES === '1') {
      throw new Error(`REQUIRE_POSTGRES=1 but PostgreSQL at ${PG_URL} is not reachable: ${(err as Error).message}`);
    }
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh schema name for this run. */
export function freshSchema(prefix = 'vault_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Drops a test schema. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'webex-auth-vault-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An integration whose client secret is a canary (to look for in logs and files). */
export const CANARY_INTEGRATION = {
  clientId: 'C1',
  clientSecret: 'SECRET-CANARY',
  redirectUri: 'http://localhost:8080/oauth',
  scopes: [] as string[],
  apiBase: 'https://webexapis.com/v1',
};

/** The integration most vault tests store their grants under (`spark:all`, at a made-up Webex). */
export const TEST_INTEGRATION = {
  clientId: 'C1',
  clientSecret: 'SECRET',
  redirectUri: 'http://localhost:8080/oauth',
  scopes: ['spark:all'],
  apiBase: 'https://webex.test/v1',
};

/** A fixed test key ring entry. */
export const TEST_KEY = `test1:${Buffer.alloc(32, 7).toString('base64')}`;
/** A second test key. */
export const TEST_KEY_2 = `test2:${Buffer.alloc(32, 9).toString('base64')}`;

/** A configuration for tests (no .env, no process env, and no OS keychain unless `env` asks for it). */
export function testConfig(env: Record<string, string | undefined>): Config {
  return loadConfig({ env: { HOME: tmpdir(), WEBEX_AUTH_KEYCHAIN: 'off', ...env }, dotenvDir: false });
}

/**
 * A token set as a grant returns it: `spark:all`, received at `now`, the access token valid 14 days and the refresh
 * token 90 days (Webex's lifetimes) unless `fields` say otherwise.
 */
export function tokenSet(
  fields: Partial<TokenSet> & Pick<TokenSet, 'accessToken' | 'refreshToken'>,
  now = Date.now(),
): TokenSet {
  return {
    tokenType: 'Bearer',
    expiresAt: now + 14 * 86_400_000,
    refreshExpiresAt: now + 90 * 86_400_000,
    scopes: ['spark:all'],
    scopeReported: true,
    receivedAt: now,
    ...fields,
  };
}

/** A stored connection row for the store tests (Alice's, of `int_1`, active), with `over` on top. */
export const connectionRow = (over: Partial<ConnectionRow> = {}): ConnectionRow => ({
  id: 'conn_1',
  ownerId: 'local',
  integrationId: 'int_1',
  personId: 'person-1',
  personEmail: 'alice@example.com',
  personEmails: ['alice@example.com'],
  displayName: 'Alice',
  avatar: undefined,
  orgId: 'org-1',
  scopes: ['spark:all'],
  requestedScopes: ['spark:all'],
  status: 'active',
  accessTokenEnc: 'v1:a1',
  refreshTokenEnc: 'v1:r1',
  keyId: 'k1',
  accessExpiresAt: 10_000,
  refreshExpiresAt: 100_000,
  keepaliveDueAt: 50_000,
  lastRefreshAt: undefined,
  lastError: undefined,
  version: 1,
  leaseHolder: undefined,
  leaseExpiresAt: undefined,
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
});

/** A stored integration row for the store tests (`int_1`, the local operator's), with `over` on top. */
export const integrationRow = (over: Partial<IntegrationRow> = {}): IntegrationRow => ({
  id: 'int_1',
  ownerId: 'local',
  clientId: 'C1',
  apiBase: 'https://webexapis.com/v1',
  redirectUri: 'http://localhost:8080/oauth',
  scopes: ['spark:all'],
  secretEnc: 'v1:enc-secret',
  keyId: 'k1',
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
});
