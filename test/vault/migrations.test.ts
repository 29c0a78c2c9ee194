/**
 * Upgrading a store made before owners (SQLite migration 001; PostgreSQL 001–003) that holds rows: the owners
 * migration keeps every row, now owned by the local operator, swaps the unique keys, and keeps the foreign key
 * connections → integrations (SQLite rebuilds both tables), the indexes and PostgreSQL's change-notify triggers.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '../../src/vault/store/migrations.js';
import { openPostgresStore } from '../../src/vault/store/postgres.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import type { ConnectionRow, IntegrationRow, Store } from '../../src/vault/store/types.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, sqliteAtMigration, tempDir } from './helpers.js';

const pgUp = await postgresAvailable();

const BASE = 'https://webexapis.com/v1';

/** Rows as the pre-owner schema held them (integration_id, person_id unique; client_id, api_base unique). */
const LEGACY_ROWS = [
  `INSERT INTO integrations (id, client_id, api_base, redirect_uri, scopes, secret_enc, key_id, created_at, updated_at)
   VALUES ('int_1', 'C1', '${BASE}', 'http://localhost:8080/oauth', '["spark:all"]', 'v1:secret', 'k1', 100, 200)`,
  `INSERT INTO integrations (id, client_id, api_base, redirect_uri, scopes, secret_enc, key_id, created_at, updated_at)
   VALUES ('int_2', 'C2', '${BASE}', 'http://localhost:8080/oauth', '[]', 'v1:secret2', 'k1', 101, 201)`,
  ...[1, 2].map(
    (i) => `INSERT INTO connections (id, integration_id, person_id, person_email, person_emails, display_name, avatar,
      org_id, scopes, requested_scopes, status, access_token_enc, refresh_token_enc, key_id, access_expires_at,
      refresh_expires_at, keepalive_due_at, last_refresh_at, last_error, version, lease_holder, lease_expires_at,
      created_at, updated_at)
    VALUES ('conn_${i}', 'int_1', 'person-${i}', 'p${i}@example.com', '["p${i}@example.com"]', 'P${i}', NULL, 'org-1',
      '["spark:all"]', '["spark:all"]', 'active', 'v1:a${i}', 'v1:r${i}', 'k1', 1000${i}, 2000${i}, 1500${i}, NULL,
      ${i === 2 ? "'upstream_unavailable'" : 'NULL'}, ${i + 3}, NULL, NULL, 300, 400)`,
  ),
  `INSERT INTO api_keys (id, name, key_hash, prefix, connection_ids, created_at, last_used_at, revoked_at)
   VALUES ('key_1', 'bot', '${'ab'.repeat(32)}', 'wak_abcd', '["conn_1"]', 500, 600, NULL)`,
];

/** What the migrated store must return for the legacy rows. */
async function expectMigrated(store: Store) {
  const integrations = await store.listIntegrations();
  expect(integrations).toEqual([
    {
      id: 'int_1',
      ownerId: 'local',
      clientId: 'C1',
      apiBase: BASE,
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      secretEnc: 'v1:secret',
      keyId: 'k1',
      createdAt: 100,
      updatedAt: 200,
      kind: 'integration',
    },
    expect.objectContaining({ id: 'int_2', ownerId: 'local', clientId: 'C2', secretEnc: 'v1:secret2' }),
  ]);
  const connections = await store.listConnections('local');
  expect(connections.map((c) => c.id)).toEqual(['conn_1', 'conn_2']);
  expect(connections[1]).toEqual({
    id: 'conn_2',
    ownerId: 'local',
    integrationId: 'int_1',
    personId: 'person-2',
    personEmail: 'p2@example.com',
    personEmails: ['p2@example.com'],
    displayName: 'P2',
    avatar: undefined,
    orgId: 'org-1',
    scopes: ['spark:all'],
    requestedScopes: ['spark:all'],
    status: 'active',
    accessTokenEnc: 'v1:a2',
    refreshTokenEnc: 'v1:r2',
    keyId: 'k1',
    accessExpiresAt: 10002,
    refreshExpiresAt: 20002,
    keepaliveDueAt: 15002,
    lastRefreshAt: undefined,
    lastError: 'upstream_unavailable',
    version: 5,
    leaseHolder: undefined,
    leaseExpiresAt: undefined,
    createdAt: 300,
    updatedAt: 400,
    kind: 'integration',
    refreshFailures: 0,
  });
  expect(await store.listApiKeys('local')).toEqual([
    {
      id: 'key_1',
      ownerId: 'local',
      name: 'bot',
      keyHash: 'ab'.repeat(32),
      prefix: 'wak_abcd',
      connectionIds: ['conn_1'],
      createdAt: 500,
      lastUsedAt: 600,
      revokedAt: undefined,
    },
  ]);
  expect((await store.dueForKeepAlive(15_001, 10)).map((c) => c.id)).toEqual(['conn_1']);

  // The new unique keys: another owner may bring the same client id and connect the same person.
  const theirs = await store.upsertIntegration({
    ...(integrations[0] as IntegrationRow),
    id: 'int_A',
    ownerId: 'acct_A',
  });
  expect(theirs.id).toBe('int_A');
  const mine = await store.upsertIntegration({
    ...(integrations[0] as IntegrationRow),
    id: 'int_x',
    secretEnc: 'v1:new',
  });
  expect(mine.id).toBe('int_1');
  const conn = await store.upsertConnection({ ...(connections[0] as ConnectionRow), id: 'conn_A', ownerId: 'acct_A' });
  expect(conn).toMatchObject({ created: true, row: { id: 'conn_A', integrationId: 'int_1' } });
  const again = await store.upsertConnection({ ...(connections[0] as ConnectionRow), id: 'conn_x' });
  expect(again).toMatchObject({ created: false, row: { id: 'conn_1', version: 5 } });
  // The tables team mode adds are there.
  await store.upsertAccount({
    id: 'acct_A',
    personId: 'wp',
    email: 'a@example.com',
    displayName: 'A',
    orgId: undefined,
    createdAt: 1,
    lastSignInAt: 1,
  });
  expect(await store.getTakenState('s', 'h')).toBeUndefined();
  expect(await store.migrate()).toEqual([]);
}

describe('owners migration, SQLite (002)', () => {
  const { dir, cleanup } = tempDir();
  afterAll(cleanup);

  it('keeps the rows of a pre-owner store, owned by the local operator, and the foreign key on `integrations`', async () => {
    const path = join(dir, 'legacy.db');
    sqliteAtMigration(path, 1, LEGACY_ROWS);

    const store = await openSqliteStore(path);
    try {
      await expectMigrated(store);
    } finally {
      await store.close();
    }

    const db = new Database(path);
    try {
      db.exec('PRAGMA foreign_keys = ON');
      // Every migration there is ran, and recorded once (later ones follow this one).
      expect(db.prepare('SELECT id FROM vault_migrations ORDER BY id').pluck().all()).toEqual(
        loadMigrations('sqlite').map((m) => m.id),
      );
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      expect(tables).not.toContain('integrations_old');
      expect(tables).not.toContain('connections_new');
      expect(tables).toEqual(expect.arrayContaining(['accounts', 'web_sessions', 'taken_states']));
      // Pending authorizations live in their browser's cookie since migration 011: the table is gone.
      expect(tables).not.toContain('pending_authorizations');
      const fks = db.prepare('PRAGMA foreign_key_list(connections)').all() as Array<Record<string, unknown>>;
      expect(fks).toEqual([
        expect.objectContaining({ table: 'integrations', from: 'integration_id', on_delete: 'CASCADE' }),
      ]);
      expect(db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
      expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
      const indexes = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'connections'")
        .pluck()
        .all();
      expect(indexes).toEqual(
        expect.arrayContaining([
          'connections_keepalive_due',
          'connections_owner',
          'connections_integration_person_owner',
        ]),
      );
      // The cascade still runs, from the new integrations table.
      db.prepare("DELETE FROM integrations WHERE id = 'int_1'").run();
      expect(db.prepare("SELECT COUNT(*) FROM connections WHERE integration_id = 'int_1'").pluck().get()).toBe(0);
      // …and the foreign key is enforced.
      expect(() =>
        db
          .prepare(
            `INSERT INTO connections (id, integration_id, person_id, person_email, person_emails, display_name, scopes,
               requested_scopes, status, access_token_enc, refresh_token_enc, key_id, access_expires_at,
               refresh_expires_at, created_at, updated_at)
             VALUES ('c', 'nope', 'p', '', '[]', '', '[]', '[]', 'active', '', '', 'k', 0, 0, 0, 0)`,
          )
          .run(),
      ).toThrow(/FOREIGN KEY/);
    } finally {
      db.close();
    }
  });
});

describe.skipIf(!pgUp)('owners migration, PostgreSQL (004)', () => {
  const schema = freshSchema('migrate');
  afterAll(() => dropSchema(schema));

  it('keeps the rows of a pre-owner store, owned by the local operator, and the change-notify triggers', async () => {
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(
        'CREATE TABLE vault_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      for (const m of loadMigrations('postgres').filter((m) => m.id <= 3)) {
        await client.query(m.sql);
        await client.query('INSERT INTO vault_migrations (id, name, applied_at) VALUES ($1, $2, 0)', [m.id, m.name]);
      }
      for (const sql of LEGACY_ROWS) await client.query(sql);
    } finally {
      await client.end();
    }

    const store = await openPostgresStore(PG_URL, { schema });
    const listener = new pg.Client({ connectionString: PG_URL });
    await listener.connect();
    try {
      await expectMigrated(store);
      const q = async (sql: string) => (await listener.query(sql)).rows;
      expect((await q(`SELECT id FROM ${schema}.vault_migrations ORDER BY id`)).map((r) => r.id)).toEqual(
        loadMigrations('postgres').map((m) => m.id),
      );
      const triggers = await q(
        `SELECT tgname FROM pg_trigger WHERE NOT tgisinternal
         AND tgrelid IN ('${schema}.connections'::regclass, '${schema}.api_keys'::regclass) ORDER BY tgname`,
      );
      expect(triggers.map((r) => r.tgname)).toEqual(['api_keys_notify_change', 'connections_notify_change']);
      const constraints = await q(
        `SELECT conname FROM pg_constraint WHERE contype = 'u'
         AND conrelid IN ('${schema}.connections'::regclass, '${schema}.integrations'::regclass) ORDER BY conname`,
      );
      expect(constraints.map((r) => r.conname)).toEqual([
        'connections_integration_person_owner_key',
        'integrations_owner_client_key',
      ]);
      // A write to connections still notifies.
      const notes: string[] = [];
      listener.on('notification', (n) => notes.push(String(n.payload)));
      await listener.query('LISTEN webex_auth_changes');
      await store.releaseLease('conn_1', 'nobody');
      await store.deleteConnection('conn_2');
      for (let i = 0; i < 50 && !notes.includes(`${schema}.connections`); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(notes).toContain(`${schema}.connections`);
      // The cascade still runs.
      await listener.query(`DELETE FROM ${schema}.integrations WHERE id = 'int_1'`);
      expect(await store.listConnections()).toEqual([]);
    } finally {
      await listener.end();
      await store.close();
    }
  });
});
