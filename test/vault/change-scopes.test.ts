/**
 * The change stamps of table scopes (store/change-scopes.ts): an integration or webhook endpoint written by this store
 * moves its scope's stamp at once, whatever the statement (insert, update, delete); the other writes of a browser flow
 * leave it still; and no write elsewhere can reach these tables unseen (no foreign key out of them, no trigger into
 * them), which is what lets a write naming the table stand for every write that changes it.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { SCOPED_TABLES, scopesWritten, TABLE_SCOPES } from '../../src/vault/store/change-scopes.js';
import { openPostgresStore } from '../../src/vault/store/postgres.js';
import type { Executor } from '../../src/vault/store/sql.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import type { Store, TableScope } from '../../src/vault/store/types.js';
import { dropSchema, freshSchema, integrationRow, PG_URL, postgresAvailable, tempDir } from './helpers.js';
import { forEachStore } from './store-runner.js';

const pgUp = await postgresAvailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The store's executor, for a statement the Store interface does not offer (a delete of an integration). */
const executorOf = (store: Store) => (store as unknown as { db: Executor }).db;

describe('scopesWritten', () => {
  it('names the scopes whose table a statement names, by whole word', () => {
    expect(scopesWritten('DELETE FROM integrations WHERE id = ?')).toEqual(['integrations']);
    expect(scopesWritten('update Webhook_Endpoints set url = ?')).toEqual(['webhookEndpoints']);
    expect(scopesWritten('INSERT INTO integrations_old SELECT * FROM x')).toEqual([]);
    expect(scopesWritten('INSERT INTO web_sessions (id_hash) VALUES (?)')).toEqual([]);
  });
});

forEachStore('table-scope change stamps', 'scopes', (store) => {
  /** Runs `write` and waits until the stamp of `scope` has moved (PostgreSQL: local bumps are immediate too). */
  async function moves(scope: TableScope, write: () => Promise<unknown>) {
    const before = store().changeStamp?.(scope);
    expect(before).toBeTypeOf('number');
    await write();
    expect(store().changeStamp?.(scope)).not.toBe(before);
  }

  it('move with every write of this store to their table, a delete included', async () => {
    const s = store();
    const row = integrationRow({ id: 'int_scope', clientId: 'C-scope' });
    await moves('integrations', () => s.upsertIntegration(row));
    await moves('integrations', () => s.setIntegrationOwner(row.id, row.ownerId, 'acct_other'));
    await moves('integrations', () => s.reencryptIntegration(row.id, row.secretEnc, 'other-enc', row.keyId));
    await moves('integrations', () => executorOf(s).run('DELETE FROM integrations WHERE id = ?', [row.id]));
    expect(await s.getIntegration(row.id)).toBeUndefined();
    const endpoint = {
      id: 'whe_scope',
      ownerId: 'acct_other',
      connectionId: undefined,
      url: 'https://hooks.example.com/x',
      secretEnc: 'enc',
      keyId: 'k',
      description: undefined,
      createdAt: 1,
    };
    await moves('webhookEndpoints', () => s.insertWebhookEndpoint(endpoint));
    await moves('webhookEndpoints', () => s.reencryptWebhookEndpoint(endpoint.id, 'enc', 'enc2', 'k'));
    await moves('webhookEndpoints', () => s.deleteWebhookEndpoint(endpoint.id));
  });

  it('stay still while a browser flow writes sessions, pending authorizations and grants (SQLite)', async () => {
    const s = store();
    // PostgreSQL's stamps also count notifications, which arrive when they arrive: checked on SQLite, where they
    // count this store's writes synchronously; PostgreSQL counts the same statements (postgres.ts).
    if (s.kind !== 'sqlite') return;
    const before = TABLE_SCOPES.map((scope) => s.changeStamp?.(scope));
    const connections = s.changeStamp?.('connections');
    const session = (idHash: string) => ({
      idHash,
      accountId: undefined,
      dataEnc: 'enc',
      keyId: 'k',
      expiresAt: 2,
      createdAt: 1,
      updatedAt: 1,
    });
    await s.insertSession(session('h1'));
    await s.rotateSession('h1', session('h2'));
    await s.deleteSession('h2');
    expect(s.changeStamp?.('connections')).not.toBe(connections);
    expect(TABLE_SCOPES.map((scope) => s.changeStamp?.(scope))).toEqual(before);
  });
});

describe('no write reaches a scoped table but one naming it', () => {
  const tables = Object.values(SCOPED_TABLES);

  it('SQLite: the scoped tables reference no table, and no trigger exists', async () => {
    const t = tempDir();
    const path = join(t.dir, 'vault.db');
    const store = await openSqliteStore(path);
    const db = new Database(path, { readonly: true });
    try {
      for (const table of tables) {
        expect(db.prepare(`PRAGMA foreign_key_list(${table})`).all(), table).toEqual([]);
        expect(db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(table), table).toBeDefined();
      }
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all()).toEqual([]);
    } finally {
      db.close();
      await store.close();
      t.cleanup();
    }
  });

  it.skipIf(!pgUp)('PostgreSQL: the scoped tables reference no table, and every trigger only notifies', async () => {
    const schema = freshSchema('scopes_fk');
    const store = await openPostgresStore(PG_URL, { schema, watchChanges: false });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const fks = await client.query(
        `SELECT tc.table_name FROM information_schema.table_constraints tc
         WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = $1 AND tc.table_name = ANY($2)`,
        [schema, tables],
      );
      expect(fks.rows).toEqual([]);
      const triggers = await client.query(
        `SELECT DISTINCT event_object_table AS t, action_statement AS a FROM information_schema.triggers
         WHERE trigger_schema = $1`,
        [schema],
      );
      expect(triggers.rows.length).toBeGreaterThan(0);
      for (const r of triggers.rows)
        expect(r.a, r.t).toMatch(/^EXECUTE FUNCTION (\w+\.)?webex_auth_notify_change\(\)$/);
      expect(new Set(triggers.rows.map((r) => r.t))).toEqual(
        new Set(['connections', 'api_keys', 'integrations', 'webhook_endpoints', 'refresh_history', 'proxy_calls']),
      );
    } finally {
      await client.end();
      await store.close();
      await dropSchema(schema);
    }
  });

  it.skipIf(!pgUp)('PostgreSQL: another process’s write to a scoped table moves its stamp here', async () => {
    const schema = freshSchema('scopes_notify');
    const here = await openPostgresStore(PG_URL, { schema });
    const there = await openPostgresStore(PG_URL, { schema, watchChanges: false });
    try {
      for (const scope of TABLE_SCOPES) {
        const before = here.changeStamp?.(scope);
        expect(before).toBeTypeOf('number');
        if (scope === 'integrations') await there.upsertIntegration(integrationRow({ id: 'int_there' }));
        else if (scope === 'webhookEndpoints') await there.deleteWebhookEndpoint('whe_none');
        else if (scope === 'refreshHistory') {
          const row = { connectionId: 'conn_there', at: 1, kind: 'keepalive', outcome: 'success', status: 200 };
          await there.insertRefreshHistory({ ...row, durationMs: 1, error: undefined });
        } else {
          const call = { connectionId: 'conn_there', at: 1, method: 'GET', template: '/people/me', status: 200 };
          await there.insertProxyCalls([{ ...call, durationMs: 1, trackingId: undefined }]);
        }
        for (let i = 0; i < 400 && here.changeStamp?.(scope) === before; i++) await sleep(5);
        expect(here.changeStamp?.(scope), scope).not.toBe(before);
      }
    } finally {
      await there.close();
      await here.close();
      await dropSchema(schema);
    }
  });
});
