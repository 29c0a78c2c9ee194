/**
 * One `Store` implementation written once in the SQL both SQLite (≥ 3.35) and PostgreSQL understand
 * (`ON CONFLICT … DO UPDATE`, `RETURNING`), over a tiny executor per database. Placeholders are written `?` and
 * numbered for PostgreSQL by the executor. Every racing write is one atomic statement.
 */
import type { ApiKeyRow, ConnectionRow, IntegrationRow, Store, TokenWrite } from './types.js';

/** A database row as the driver returns it. */
export type Row = Record<string, unknown>;

/** What a database must offer the SQL store. */
export interface Executor {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs a statement and returns its rows (`RETURNING` included). */
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a statement and returns the number of changed rows. */
  run(sql: string, params?: unknown[]): Promise<number>;
  /** Whether the table `name` exists (in the store's schema), asked without an error on the server when it does not. */
  hasTable(name: string): Promise<boolean>;
  /** See {@link Store.changeStamp}. */
  changeStamp?(scope: 'connections' | 'apiKeys'): number | undefined;
  /** Runs `fn` holding the database-wide migration lock, inside one transaction. */
  migrationLock<T>(fn: (exec: (sql: string, params?: unknown[]) => Promise<Row[]>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const num = (v: unknown): number => Number(v);
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const list = (v: unknown): string[] => JSON.parse(String(v)) as string[];
const nil = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

function integrationOf(r: Row): IntegrationRow {
  return {
    id: String(r.id),
    clientId: String(r.client_id),
    apiBase: String(r.api_base),
    redirectUri: String(r.redirect_uri),
    scopes: list(r.scopes),
    secretEnc: String(r.secret_enc),
    keyId: String(r.key_id),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function connectionOf(r: Row): ConnectionRow {
  return {
    id: String(r.id),
    integrationId: String(r.integration_id),
    personId: String(r.person_id),
    personEmail: String(r.person_email),
    personEmails: list(r.person_emails),
    displayName: String(r.display_name),
    avatar: optStr(r.avatar),
    orgId: optStr(r.org_id),
    scopes: list(r.scopes),
    requestedScopes: list(r.requested_scopes),
    status: r.status === 'needs_reauth' ? 'needs_reauth' : 'active',
    accessTokenEnc: String(r.access_token_enc),
    refreshTokenEnc: String(r.refresh_token_enc),
    keyId: String(r.key_id),
    accessExpiresAt: num(r.access_expires_at),
    refreshExpiresAt: num(r.refresh_expires_at),
    keepaliveDueAt: optNum(r.keepalive_due_at),
    lastRefreshAt: optNum(r.last_refresh_at),
    lastError: optStr(r.last_error),
    version: num(r.version),
    leaseHolder: optStr(r.lease_holder),
    leaseExpiresAt: optNum(r.lease_expires_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function apiKeyOf(r: Row): ApiKeyRow {
  return {
    id: String(r.id),
    name: String(r.name),
    keyHash: String(r.key_hash),
    prefix: String(r.prefix),
    connectionIds: list(r.connection_ids),
    createdAt: num(r.created_at),
    lastUsedAt: optNum(r.last_used_at),
    revokedAt: optNum(r.revoked_at),
  };
}

/** Numbered migration files (`NNN_name.sql`) with their SQL. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** The SQL store over an executor. */
export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';

  constructor(
    private readonly db: Executor,
    private readonly migrations: Migration[],
  ) {
    this.kind = db.kind;
  }

  changeStamp(scope: 'connections' | 'apiKeys'): number | undefined {
    return this.db.changeStamp?.(scope);
  }

  async migrate(): Promise<string[]> {
    // Most opens find every migration applied: that is checked first without the migration lock, which on SQLite is
    // the database's write lock (BEGIN IMMEDIATE) and would make every CLI command wait for a writing server.
    // Migrations are only ever added, each recorded in the transaction that applies it, so a recorded id stays applied.
    if (await this.allApplied()) return [];
    return this.db.migrationLock(async (exec) => {
      await exec(
        'CREATE TABLE IF NOT EXISTS vault_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      const done = new Set((await exec('SELECT id FROM vault_migrations')).map((r) => num(r.id)));
      const applied: string[] = [];
      for (const m of this.migrations) {
        if (done.has(m.id)) continue;
        await exec(m.sql);
        await exec('INSERT INTO vault_migrations (id, name, applied_at) VALUES (?, ?, ?)', [m.id, m.name, Date.now()]);
        applied.push(m.name);
      }
      return applied;
    });
  }

  /** Whether every known migration is recorded as applied (false also when the store has no record table yet). */
  private async allApplied(): Promise<boolean> {
    if (!(await this.db.hasTable('vault_migrations'))) return false;
    const done = new Set((await this.db.all('SELECT id FROM vault_migrations')).map((r) => num(r.id)));
    return this.migrations.every((m) => done.has(m.id));
  }

  async upsertIntegration(row: IntegrationRow): Promise<IntegrationRow> {
    const rows = await this.db.all(
      `INSERT INTO integrations (id, client_id, api_base, redirect_uri, scopes, secret_enc, key_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_id, api_base) DO UPDATE SET redirect_uri = excluded.redirect_uri, scopes = excluded.scopes,
         secret_enc = excluded.secret_enc, key_id = excluded.key_id, updated_at = excluded.updated_at
       RETURNING *`,
      [
        row.id,
        row.clientId,
        row.apiBase,
        row.redirectUri,
        JSON.stringify(row.scopes),
        row.secretEnc,
        row.keyId,
        row.createdAt,
        row.updatedAt,
      ],
    );
    return integrationOf(rows[0] as Row);
  }

  async getIntegration(id: string): Promise<IntegrationRow | undefined> {
    const r = (await this.db.all('SELECT * FROM integrations WHERE id = ?', [id]))[0];
    return r ? integrationOf(r) : undefined;
  }

  async findIntegration(clientId: string, apiBase: string): Promise<IntegrationRow | undefined> {
    const r = (
      await this.db.all('SELECT * FROM integrations WHERE client_id = ? AND api_base = ?', [clientId, apiBase])
    )[0];
    return r ? integrationOf(r) : undefined;
  }

  async listIntegrations(): Promise<IntegrationRow[]> {
    return (await this.db.all('SELECT * FROM integrations ORDER BY created_at, id')).map(integrationOf);
  }

  async upsertConnection(row: ConnectionRow): Promise<{ row: ConnectionRow; created: boolean }> {
    const rows = await this.db.all(
      `INSERT INTO connections (id, integration_id, person_id, person_email, person_emails, display_name, avatar, org_id,
         scopes, requested_scopes, status, access_token_enc, refresh_token_enc, key_id, access_expires_at,
         refresh_expires_at, keepalive_due_at, last_refresh_at, last_error, version, lease_holder, lease_expires_at,
         created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, NULL, 1, NULL, NULL, ?, ?)
       ON CONFLICT (integration_id, person_id) DO UPDATE SET person_email = excluded.person_email,
         person_emails = excluded.person_emails, display_name = excluded.display_name, avatar = excluded.avatar,
         org_id = excluded.org_id, scopes = excluded.scopes, requested_scopes = excluded.requested_scopes,
         status = 'active', access_token_enc = excluded.access_token_enc, refresh_token_enc = excluded.refresh_token_enc,
         key_id = excluded.key_id, access_expires_at = excluded.access_expires_at,
         refresh_expires_at = excluded.refresh_expires_at, keepalive_due_at = excluded.keepalive_due_at,
         last_error = NULL, version = connections.version + 1, lease_holder = NULL, lease_expires_at = NULL,
         updated_at = excluded.updated_at
       RETURNING *`,
      [
        row.id,
        row.integrationId,
        row.personId,
        row.personEmail,
        JSON.stringify(row.personEmails),
        row.displayName,
        nil(row.avatar),
        nil(row.orgId),
        JSON.stringify(row.scopes),
        JSON.stringify(row.requestedScopes),
        row.accessTokenEnc,
        row.refreshTokenEnc,
        row.keyId,
        row.accessExpiresAt,
        row.refreshExpiresAt,
        nil(row.keepaliveDueAt),
        nil(row.lastRefreshAt),
        row.createdAt,
        row.updatedAt,
      ],
    );
    const stored = connectionOf(rows[0] as Row);
    return { row: stored, created: stored.id === row.id };
  }

  async getConnection(id: string): Promise<ConnectionRow | undefined> {
    const r = (await this.db.all('SELECT * FROM connections WHERE id = ?', [id]))[0];
    return r ? connectionOf(r) : undefined;
  }

  async findConnection(integrationId: string, personId: string): Promise<ConnectionRow | undefined> {
    const r = (
      await this.db.all('SELECT * FROM connections WHERE integration_id = ? AND person_id = ?', [
        integrationId,
        personId,
      ])
    )[0];
    return r ? connectionOf(r) : undefined;
  }

  async listConnections(): Promise<ConnectionRow[]> {
    return (await this.db.all('SELECT * FROM connections ORDER BY created_at, id')).map(connectionOf);
  }

  async deleteConnection(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM connections WHERE id = ?', [id])) > 0;
  }

  async acquireLease(id: string, holder: string, expiresAt: number, now: number): Promise<ConnectionRow | undefined> {
    const r = (
      await this.db.all(
        `UPDATE connections SET lease_holder = ?, lease_expires_at = ?
         WHERE id = ? AND (lease_holder IS NULL OR lease_holder = ? OR lease_expires_at <= ?) RETURNING *`,
        [holder, expiresAt, id, holder, now],
      )
    )[0];
    return r ? connectionOf(r) : undefined;
  }

  async releaseLease(id: string, holder: string): Promise<void> {
    await this.db.run(
      'UPDATE connections SET lease_holder = NULL, lease_expires_at = NULL WHERE id = ? AND lease_holder = ?',
      [id, holder],
    );
  }

  async writeTokens(id: string, expectedVersion: number, holder: string, w: TokenWrite): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE connections SET access_token_enc = ?, refresh_token_enc = ?, key_id = ?, access_expires_at = ?,
         refresh_expires_at = ?, keepalive_due_at = ?, scopes = ?, last_refresh_at = ?, updated_at = ?,
         status = 'active', last_error = NULL, version = version + 1, lease_holder = NULL, lease_expires_at = NULL
       WHERE id = ? AND version = ? AND lease_holder = ?`,
      [
        w.accessTokenEnc,
        w.refreshTokenEnc,
        w.keyId,
        w.accessExpiresAt,
        w.refreshExpiresAt,
        nil(w.keepaliveDueAt),
        JSON.stringify(w.scopes),
        w.lastRefreshAt,
        w.updatedAt,
        id,
        expectedVersion,
        holder,
      ],
    );
    return changed > 0;
  }

  async setStatus(
    id: string,
    status: 'active' | 'needs_reauth',
    lastError: string | undefined,
    now: number,
    expectedVersion?: number,
  ): Promise<boolean> {
    // A connection that needs re-authorization is no longer due for keep-alive.
    const due = status === 'active' ? 'keepalive_due_at' : 'NULL';
    const versionCheck = expectedVersion === undefined ? '' : ' AND version = ?';
    const changed = await this.db.run(
      `UPDATE connections SET status = ?, last_error = ?, updated_at = ?, version = version + 1, keepalive_due_at = ${due},
         lease_holder = NULL, lease_expires_at = NULL
       WHERE id = ?${versionCheck}`,
      [status, nil(lastError), now, id, ...(expectedVersion === undefined ? [] : [expectedVersion])],
    );
    return changed > 0;
  }

  async recordError(id: string, holder: string, lastError: string, now: number): Promise<void> {
    await this.db.run(
      `UPDATE connections SET last_error = ?, updated_at = ?,
         lease_holder = CASE WHEN lease_holder = ? THEN NULL ELSE lease_holder END,
         lease_expires_at = CASE WHEN lease_holder = ? THEN NULL ELSE lease_expires_at END
       WHERE id = ?`,
      [lastError, now, holder, holder, id],
    );
  }

  async dueForKeepAlive(now: number, limit: number): Promise<ConnectionRow[]> {
    const rows = await this.db.all(
      `SELECT * FROM connections WHERE keepalive_due_at <= ? AND status = 'active'
       ORDER BY keepalive_due_at LIMIT ?`,
      [now, limit],
    );
    return rows.map(connectionOf);
  }

  async rowsNotUnderKey(
    activeKeyId: string,
    limit: number,
  ): Promise<{ integrations: IntegrationRow[]; connections: ConnectionRow[] }> {
    const integrations = (
      await this.db.all('SELECT * FROM integrations WHERE key_id <> ? ORDER BY id LIMIT ?', [activeKeyId, limit])
    ).map(integrationOf);
    const connections = (
      await this.db.all('SELECT * FROM connections WHERE key_id <> ? ORDER BY id LIMIT ?', [activeKeyId, limit])
    ).map(connectionOf);
    return { integrations, connections };
  }

  async countNotUnderKey(activeKeyId: string): Promise<number> {
    const rows = await this.db.all(
      `SELECT (SELECT COUNT(*) FROM integrations WHERE key_id <> ?) + (SELECT COUNT(*) FROM connections WHERE key_id <> ?) AS n`,
      [activeKeyId, activeKeyId],
    );
    return num(rows[0]?.n ?? 0);
  }

  async reencryptIntegration(
    id: string,
    expectedSecretEnc: string,
    secretEnc: string,
    keyId: string,
  ): Promise<boolean> {
    return (
      (await this.db.run('UPDATE integrations SET secret_enc = ?, key_id = ? WHERE id = ? AND secret_enc = ?', [
        secretEnc,
        keyId,
        id,
        expectedSecretEnc,
      ])) > 0
    );
  }

  async reencryptConnection(
    id: string,
    expectedVersion: number,
    now: number,
    enc: { accessTokenEnc: string; refreshTokenEnc: string; keyId: string },
  ): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE connections SET access_token_enc = ?, refresh_token_enc = ?, key_id = ?
       WHERE id = ? AND version = ? AND (lease_holder IS NULL OR lease_expires_at <= ?)`,
      [enc.accessTokenEnc, enc.refreshTokenEnc, enc.keyId, id, expectedVersion, now],
    );
    return changed > 0;
  }

  async insertApiKey(row: ApiKeyRow): Promise<void> {
    await this.db.run(
      `INSERT INTO api_keys (id, name, key_hash, prefix, connection_ids, created_at, last_used_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)`,
      [row.id, row.name, row.keyHash, row.prefix, JSON.stringify(row.connectionIds), row.createdAt],
    );
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | undefined> {
    const r = (await this.db.all('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL', [keyHash]))[0];
    return r ? apiKeyOf(r) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRow[]> {
    return (await this.db.all('SELECT * FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id')).map(apiKeyOf);
  }

  async revokeApiKey(id: string, now: number): Promise<boolean> {
    return (await this.db.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])) > 0;
  }

  async touchApiKey(id: string, now: number): Promise<void> {
    await this.db.run('UPDATE api_keys SET last_used_at = ? WHERE id = ?', [now, id]);
  }

  async acquireNamedLease(name: string, holder: string, expiresAt: number, now: number): Promise<boolean> {
    const rows = await this.db.all(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
       RETURNING holder`,
      [name, holder, expiresAt, now],
    );
    return rows.length > 0;
  }

  async releaseNamedLease(name: string, holder: string): Promise<void> {
    await this.db.run('DELETE FROM leases WHERE name = ? AND holder = ?', [name, holder]);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
