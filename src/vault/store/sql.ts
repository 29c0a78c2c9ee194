/**
 * One `Store` implementation written once in the SQL both SQLite (≥ 3.35) and PostgreSQL understand
 * (`ON CONFLICT … DO UPDATE`, `RETURNING`), over a tiny executor per database. Placeholders are written `?` and
 * numbered for PostgreSQL by the executor. Every racing write is one atomic statement. The statements of accounts,
 * web sessions and pending authorizations are in sql-sessions.ts, those of broker API keys in sql-api-keys.ts; the
 * row-mapping helpers in sql-rows.ts.
 */
import { listOrder } from './pages.js';
import { ApiKeyStatements } from './sql-api-keys.js';
import { AuditStatements } from './sql-audit.js';
import { ForcedRefreshStatements } from './sql-forced.js';
import { LifecycleStatements } from './sql-history.js';
import { GuestTokenStatements, kindOf, reasonOf } from './sql-kinds.js';
import { ProxyCallStatements } from './sql-proxy-calls.js';
import { list, nil, num, optNum, optStr, type Row } from './sql-rows.js';
import { SessionStatements } from './sql-sessions.js';
import { WebhookStatements } from './sql-webhooks.js';
import type {
  AccountRow,
  ApiKeyRow,
  AuditQuery,
  AuditRow,
  ChangeScope,
  ConnectionFilter,
  ConnectionKind,
  ConnectionRow,
  ForcedRefreshClaim,
  GuestTokenRow,
  IntegrationRow,
  NeedsReauthReason,
  ProxyCallRow,
  RefreshFailure,
  RefreshHistoryRow,
  SessionRow,
  Store,
  TakenStateRow,
  TokenMintRow,
  TokenWrite,
  WebhookDeliveryRow,
  WebhookDeliveryUpdate,
  WebhookEndpointRow,
} from './types.js';

/** At most this many ids bound in one `IN (…)` list. */
const ID_CHUNK = 500;

export type { Row } from './sql-rows.js';

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
  changeStamp?(scope: ChangeScope): number | undefined;
  /** See {@link Store.writeTogether}; without it `fn` just runs (every statement commits on its own). */
  writeTogether?<T>(fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` holding the database-wide migration lock, inside one transaction. */
  migrationLock<T>(fn: (exec: (sql: string, params?: unknown[]) => Promise<Row[]>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function integrationOf(r: Row): IntegrationRow {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    clientId: String(r.client_id),
    apiBase: String(r.api_base),
    redirectUri: String(r.redirect_uri),
    scopes: list(r.scopes),
    secretEnc: String(r.secret_enc),
    keyId: String(r.key_id),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    kind: kindOf(r.kind),
  };
}

function connectionOf(r: Row): ConnectionRow {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
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
    kind: kindOf(r.kind),
    needsReauthReason: reasonOf(r.needs_reauth_reason),
    appId: optStr(r.app_id),
    fetcherConnectionId: optStr(r.fetcher_connection_id),
    refreshFailures: optNum(r.refresh_failures) ?? 0,
    refreshFailingSince: optNum(r.refresh_failing_since),
    refreshNextAttemptAt: optNum(r.refresh_next_attempt_at),
    lastErrorStatus: optNum(r.last_error_status),
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

  /** Accounts, web sessions and pending authorizations (sql-sessions.ts). */
  private readonly web: SessionStatements;
  /** The audit log (sql-audit.ts). */
  private readonly audit: AuditStatements;
  /** Broker API keys (sql-api-keys.ts). */
  private readonly keys: ApiKeyStatements;
  /** The forced-refresh claim (sql-forced.ts). */
  private readonly forced: ForcedRefreshStatements;
  /** Lifecycle-event webhook endpoints and deliveries (sql-webhooks.ts). */
  private readonly hooks: WebhookStatements;
  /** Guest tokens of Service Apps (sql-kinds.ts). */
  private readonly guests: GuestTokenStatements;
  /** Refresh history, minted tokens and back-off (sql-history.ts). */
  private readonly lifecycle: LifecycleStatements;
  /** The proxy's call log (sql-proxy-calls.ts). */
  private readonly calls: ProxyCallStatements;

  constructor(
    private readonly db: Executor,
    private readonly migrations: Migration[],
  ) {
    this.kind = db.kind;
    this.web = new SessionStatements(db);
    this.audit = new AuditStatements(db);
    this.keys = new ApiKeyStatements(db);
    this.forced = new ForcedRefreshStatements(db);
    this.hooks = new WebhookStatements(db);
    this.guests = new GuestTokenStatements(db);
    this.lifecycle = new LifecycleStatements(db);
    this.calls = new ProxyCallStatements(db);
  }

  changeStamp(scope: ChangeScope): number | undefined {
    return this.db.changeStamp?.(scope);
  }

  writeTogether<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.writeTogether ? this.db.writeTogether(fn) : fn();
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
      `INSERT INTO integrations (id, owner_id, client_id, api_base, redirect_uri, scopes, secret_enc, key_id, created_at,
         updated_at, kind)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (owner_id, client_id, api_base) DO UPDATE SET redirect_uri = excluded.redirect_uri, scopes = excluded.scopes,
         secret_enc = excluded.secret_enc, key_id = excluded.key_id, updated_at = excluded.updated_at
       RETURNING *`,
      [
        row.id,
        row.ownerId,
        row.clientId,
        row.apiBase,
        row.redirectUri,
        JSON.stringify(row.scopes),
        row.secretEnc,
        row.keyId,
        row.createdAt,
        row.updatedAt,
        row.kind ?? 'integration',
      ],
    );
    return integrationOf(rows[0] as Row);
  }

  async getIntegration(id: string): Promise<IntegrationRow | undefined> {
    const r = (await this.db.all('SELECT * FROM integrations WHERE id = ?', [id]))[0];
    return r ? integrationOf(r) : undefined;
  }

  async findIntegration(ownerId: string, clientId: string, apiBase: string): Promise<IntegrationRow | undefined> {
    const r = (
      await this.db.all('SELECT * FROM integrations WHERE owner_id = ? AND client_id = ? AND api_base = ?', [
        ownerId,
        clientId,
        apiBase,
      ])
    )[0];
    return r ? integrationOf(r) : undefined;
  }

  async listIntegrations(ownerId?: string): Promise<IntegrationRow[]> {
    const rows =
      ownerId === undefined
        ? await this.db.all('SELECT * FROM integrations ORDER BY created_at, id')
        : await this.db.all('SELECT * FROM integrations WHERE owner_id = ? ORDER BY created_at, id', [ownerId]);
    return rows.map(integrationOf);
  }

  async countIntegrations(ownerId: string): Promise<number> {
    const rows = await this.db.all('SELECT COUNT(*) AS n FROM integrations WHERE owner_id = ?', [ownerId]);
    return num(rows[0]?.n ?? 0);
  }

  async setIntegrationOwner(id: string, fromOwner: string, toOwner: string): Promise<boolean> {
    return (
      (await this.db.run('UPDATE integrations SET owner_id = ? WHERE id = ? AND owner_id = ?', [
        toOwner,
        id,
        fromOwner,
      ])) > 0
    );
  }

  async upsertConnection(row: ConnectionRow): Promise<{ row: ConnectionRow; created: boolean }> {
    const rows = await this.db.all(
      `INSERT INTO connections (id, owner_id, integration_id, person_id, person_email, person_emails, display_name, avatar, org_id,
         scopes, requested_scopes, status, access_token_enc, refresh_token_enc, key_id, access_expires_at,
         refresh_expires_at, keepalive_due_at, last_refresh_at, last_error, version, lease_holder, lease_expires_at,
         created_at, updated_at, kind, app_id, fetcher_connection_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, NULL, 1, NULL, NULL, ?, ?, ?, ?, ?)
       ON CONFLICT (integration_id, person_id, owner_id) DO UPDATE SET person_email = excluded.person_email,
         person_emails = excluded.person_emails, display_name = excluded.display_name, avatar = excluded.avatar,
         org_id = excluded.org_id, scopes = excluded.scopes, requested_scopes = excluded.requested_scopes,
         status = 'active', access_token_enc = excluded.access_token_enc, refresh_token_enc = excluded.refresh_token_enc,
         key_id = excluded.key_id, access_expires_at = excluded.access_expires_at,
         refresh_expires_at = excluded.refresh_expires_at, keepalive_due_at = excluded.keepalive_due_at,
         last_error = NULL, version = connections.version + 1, lease_holder = NULL, lease_expires_at = NULL,
         updated_at = excluded.updated_at, needs_reauth_reason = NULL, refresh_failures = 0,
         refresh_failing_since = NULL, refresh_next_attempt_at = NULL, last_error_status = NULL, app_id = excluded.app_id,
         fetcher_connection_id = excluded.fetcher_connection_id
       RETURNING *`,
      [
        row.id,
        row.ownerId,
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
        row.kind ?? 'integration',
        nil(row.appId),
        nil(row.fetcherConnectionId),
      ],
    );
    const stored = connectionOf(rows[0] as Row);
    return { row: stored, created: stored.id === row.id };
  }

  async getConnection(id: string): Promise<ConnectionRow | undefined> {
    const r = (await this.db.all('SELECT * FROM connections WHERE id = ?', [id]))[0];
    return r ? connectionOf(r) : undefined;
  }

  async findGrantTarget(
    integrationId: string,
    personId: string,
    ownerId: string,
  ): Promise<{ connectionId: string | undefined } | undefined> {
    // The connection's id only: a grant replaces every other column (upsertConnection).
    const r = (
      await this.db.all(
        `SELECT c.id AS connection_id FROM integrations i
         LEFT JOIN connections c ON c.integration_id = i.id AND c.person_id = ? AND c.owner_id = ?
         WHERE i.id = ?`,
        [personId, ownerId, integrationId],
      )
    )[0];
    return r ? { connectionId: optStr(r.connection_id) } : undefined;
  }

  async listConnections(ownerId?: string): Promise<ConnectionRow[]> {
    const rows =
      ownerId === undefined
        ? await this.db.all('SELECT * FROM connections ORDER BY created_at, id')
        : await this.db.all('SELECT * FROM connections WHERE owner_id = ? ORDER BY created_at, id', [ownerId]);
    return rows.map(connectionOf);
  }

  async pageConnections(page: {
    after: string | undefined;
    limit: number;
    status?: ConnectionRow['status'] | undefined;
    kind?: ConnectionKind | undefined;
  }): Promise<ConnectionRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (page.after !== undefined) {
      where.push('id > ?');
      params.push(page.after);
    }
    if (page.status !== undefined) {
      where.push('status = ?');
      params.push(page.status);
    }
    if (page.kind !== undefined) {
      // An integration grant may be stored with no kind (older rows): `integration` matches those too.
      where.push(page.kind === 'integration' ? "(kind = 'integration' OR kind IS NULL)" : 'kind = ?');
      if (page.kind !== 'integration') params.push(page.kind);
    }
    // Ordered by the primary key alone, so that the database walks its index from `after` and stops after `limit`
    // rows (no sort of every matching row, as an ORDER BY created_at would need).
    const sql = `SELECT * FROM connections${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
    return (await this.db.all(sql, [...params, page.limit])).map(connectionOf);
  }

  async connectionsWithScopes(scopes: readonly string[], status: ConnectionRow['status']): Promise<ConnectionRow[]> {
    // Scopes are stored as a JSON list of strings: a LIKE on each quoted scope keeps the few candidate rows in the
    // database (SQLite's LIKE ignores ASCII case, so it may keep a few too many), and the exact check is made on the
    // parsed list. `!` escapes LIKE's wildcards in the scope, and no backslash acts as one (PostgreSQL's default escape
    // would read a JSON-escaped `\` or `"` in a scope as something else and miss the row).
    const like = scopes.map(() => " AND scopes LIKE ? ESCAPE '!'").join('');
    const literal = (text: string) => text.replace(/[!%_]/g, (c) => `!${c}`);
    const rows = await this.db.all(`SELECT * FROM connections WHERE status = ?${like} ORDER BY id`, [
      status,
      ...scopes.map((s) => `%${literal(JSON.stringify(s))}%`),
    ]);
    return rows.map(connectionOf).filter((r) => scopes.every((s) => r.scopes.includes(s)));
  }

  async latestConnections(ownerId: string, limit: number): Promise<ConnectionRow[]> {
    // Ties go as in listConnections (oldest first), so the CLI picks the row it picked from the full list.
    const rows = await this.db.all(
      'SELECT * FROM connections WHERE owner_id = ? ORDER BY updated_at DESC, created_at, id LIMIT ?',
      [ownerId, limit],
    );
    return rows.map(connectionOf);
  }

  async findConnections(filter: ConnectionFilter): Promise<ConnectionRow[]> {
    const { ids, limit, offset = 0 } = filter;
    if (ids && ids.length > ID_CHUNK) {
      // A long id list goes in chunks (bound parameters are capped), merged in order, then paged.
      const rows: ConnectionRow[] = [];
      for (let i = 0; i < ids.length; i += ID_CHUNK) {
        rows.push(
          ...(await this.findConnections({ ...filter, ids: ids.slice(i, i + ID_CHUNK), limit: undefined, offset: 0 })),
        );
      }
      rows.sort(listOrder);
      return rows.slice(offset, limit === undefined ? undefined : offset + limit);
    }
    if (ids?.length === 0) return [];
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, ...values: unknown[]) => {
      where.push(condition);
      params.push(...values);
    };
    if (filter.ownerId !== undefined) add('owner_id = ?', filter.ownerId);
    if (filter.status !== undefined) add('status = ?', filter.status);
    if (ids) add(`id IN (${ids.map(() => '?').join(', ')})`, ...ids);
    let sql = `SELECT * FROM connections${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    if (limit !== undefined || offset > 0) {
      sql += ' LIMIT ? OFFSET ?';
      // SQLite reads LIMIT -1 as none; PostgreSQL reads LIMIT NULL as none.
      params.push(limit ?? (this.db.kind === 'sqlite' ? -1 : null), offset);
    }
    return (await this.db.all(sql, params)).map(connectionOf);
  }

  async countConnectionsByStatus(): Promise<Record<ConnectionRow['status'], number>> {
    const counts = { active: 0, needs_reauth: 0 };
    for (const r of await this.db.all('SELECT status, COUNT(*) AS n FROM connections GROUP BY status')) {
      if (r.status === 'active' || r.status === 'needs_reauth') counts[r.status] = Number(r.n);
    }
    return counts;
  }

  async deleteConnection(id: string): Promise<boolean> {
    const deleted = (await this.db.run('DELETE FROM connections WHERE id = ?', [id])) > 0;
    if (deleted) {
      await this.calls.deleteFor(id);
      await this.lifecycle.deleteFor(id);
    }
    return deleted;
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
         status = 'active', last_error = NULL, version = version + 1, lease_holder = NULL, lease_expires_at = NULL,
         needs_reauth_reason = NULL, refresh_failures = 0, refresh_failing_since = NULL,
         refresh_next_attempt_at = NULL, last_error_status = NULL
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
    reason?: NeedsReauthReason,
  ): Promise<boolean> {
    // A connection that needs re-authorization is no longer due for keep-alive.
    const due = status === 'active' ? 'keepalive_due_at' : 'NULL';
    const versionCheck = expectedVersion === undefined ? '' : ' AND version = ?';
    const why = status === 'active' ? null : (reason ?? 'refresh_refused');
    const changed = await this.db.run(
      `UPDATE connections SET status = ?, last_error = ?, updated_at = ?, version = version + 1, keepalive_due_at = ${due},
         lease_holder = NULL, lease_expires_at = NULL, needs_reauth_reason = ?
       WHERE id = ?${versionCheck}`,
      [status, nil(lastError), now, why, id, ...(expectedVersion === undefined ? [] : [expectedVersion])],
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
         AND (refresh_next_attempt_at IS NULL OR refresh_next_attempt_at <= ?)
       ORDER BY keepalive_due_at LIMIT ?`,
      [now, now, limit],
    );
    return rows.map(connectionOf);
  }

  async claimDueForKeepAlive(now: number, limit: number, holder: string, expiresAt: number): Promise<ConnectionRow[]> {
    // PostgreSQL: rows another instance is claiming right now are skipped, never waited for; SQLite has one writer,
    // so the statement is atomic as it is.
    const lock = this.db.kind === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const rows = await this.db.all(
      `UPDATE connections SET lease_holder = ?, lease_expires_at = ?
       WHERE id IN (SELECT id FROM connections WHERE keepalive_due_at <= ? AND status = 'active'
           AND (refresh_next_attempt_at IS NULL OR refresh_next_attempt_at <= ?)
           AND (lease_holder IS NULL OR lease_expires_at <= ?)
         ORDER BY keepalive_due_at LIMIT ?${lock})
       RETURNING *`,
      [holder, expiresAt, now, now, now, limit],
    );
    return rows.map(connectionOf).sort((a, b) => (a.keepaliveDueAt ?? 0) - (b.keepaliveDueAt ?? 0));
  }

  async listConnectionsByKind(kind: ConnectionKind): Promise<ConnectionRow[]> {
    // An integration grant may be stored with no kind (older rows): `integration` matches those too.
    const rows =
      kind === 'integration'
        ? await this.db.all(
            "SELECT * FROM connections WHERE kind = 'integration' OR kind IS NULL ORDER BY created_at, id",
          )
        : kind === 'service_app'
          ? // Every Service App row has its application id (PostgreSQL may find them by its (app_id, org_id) index;
            // SQLite scans, and has no such index since its migration 010).
            await this.db.all(
              'SELECT * FROM connections WHERE app_id IS NOT NULL AND kind = ? ORDER BY created_at, id',
              [kind],
            )
          : await this.db.all('SELECT * FROM connections WHERE kind = ? ORDER BY created_at, id', [kind]);
    return rows.map(connectionOf);
  }

  async claimForcedRefresh(id: string, now: number, minIntervalMs: number): Promise<ForcedRefreshClaim | undefined> {
    return this.forced.claim(id, now, minIntervalMs);
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

  // Broker API keys: see sql-api-keys.ts.

  insertApiKey(row: ApiKeyRow): Promise<void> {
    return this.keys.insertApiKey(row);
  }

  findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | undefined> {
    return this.keys.findApiKeyByHash(keyHash);
  }

  getApiKey(id: string): Promise<ApiKeyRow | undefined> {
    return this.keys.getApiKey(id);
  }

  listApiKeys(ownerId?: string): Promise<ApiKeyRow[]> {
    return this.keys.listApiKeys(ownerId);
  }

  revokeApiKey(id: string, now: number): Promise<boolean> {
    return this.keys.revokeApiKey(id, now);
  }

  touchApiKey(id: string, now: number): Promise<void> {
    return this.keys.touchApiKey(id, now);
  }

  setApiKeyPermissions(id: string, permissions: string[]): Promise<boolean> {
    return this.keys.setApiKeyPermissions(id, permissions);
  }

  // Accounts, web sessions and pending authorizations: see sql-sessions.ts.

  upsertAccount(row: AccountRow): Promise<AccountRow> {
    return this.web.upsertAccount(row);
  }

  getAccount(id: string): Promise<AccountRow | undefined> {
    return this.web.getAccount(id);
  }

  listAccounts(): Promise<AccountRow[]> {
    return this.web.listAccounts();
  }

  insertSession(row: SessionRow): Promise<void> {
    return this.web.insertSession(row);
  }

  getSession(idHash: string, now: number): Promise<SessionRow | undefined> {
    return this.web.getSession(idHash, now);
  }

  updateSession(
    idHash: string,
    write: Pick<SessionRow, 'accountId' | 'dataEnc' | 'keyId' | 'expiresAt' | 'updatedAt'>,
  ): Promise<boolean> {
    return this.web.updateSession(idHash, write);
  }

  deleteSession(idHash: string): Promise<boolean> {
    return this.web.deleteSession(idHash);
  }

  rotateSession(fromIdHash: string, row: SessionRow): Promise<void> {
    return this.web.rotateSession(fromIdHash, row);
  }

  takeState(row: Omit<TakenStateRow, 'connectionId'>): Promise<boolean> {
    return this.web.takeState(row);
  }

  getTakenState(stateHash: string, browserHash: string): Promise<TakenStateRow | undefined> {
    return this.web.getTakenState(stateHash, browserHash);
  }

  completeTakenState(stateHash: string, connectionId: string): Promise<void> {
    return this.web.completeTakenState(stateHash, connectionId);
  }

  purgeExpired(now: number): Promise<number> {
    return this.web.purgeExpired(now);
  }

  // The audit log: see sql-audit.ts.

  insertAudit(row: AuditRow): Promise<void> {
    return this.audit.insertAudit(row);
  }

  listAudit(query: AuditQuery): Promise<AuditRow[]> {
    return this.audit.listAudit(query);
  }

  purgeAudit(before: number): Promise<number> {
    return this.audit.purgeAudit(before);
  }

  // Lifecycle-event webhooks: see sql-webhooks.ts.

  insertWebhookEndpoint(row: WebhookEndpointRow): Promise<void> {
    return this.hooks.insertWebhookEndpoint(row);
  }

  getWebhookEndpoint(id: string): Promise<WebhookEndpointRow | undefined> {
    return this.hooks.getWebhookEndpoint(id);
  }

  listWebhookEndpoints(ownerId?: string): Promise<WebhookEndpointRow[]> {
    return this.hooks.listWebhookEndpoints(ownerId);
  }

  webhookTargets(ownerId: string, connectionId: string | undefined): Promise<WebhookEndpointRow[]> {
    return this.hooks.webhookTargets(ownerId, connectionId);
  }

  deleteWebhookEndpoint(id: string): Promise<boolean> {
    return this.hooks.deleteWebhookEndpoint(id);
  }

  deleteConnectionWebhooks(connectionId: string): Promise<number> {
    return this.hooks.deleteConnectionWebhooks(connectionId);
  }

  reencryptWebhookEndpoint(id: string, expectedSecretEnc: string, secretEnc: string, keyId: string): Promise<boolean> {
    return this.hooks.reencryptWebhookEndpoint(id, expectedSecretEnc, secretEnc, keyId);
  }

  insertWebhookDelivery(row: WebhookDeliveryRow, keep: number): Promise<void> {
    return this.hooks.insertWebhookDelivery(row, keep);
  }

  updateWebhookDelivery(id: string, update: WebhookDeliveryUpdate): Promise<boolean> {
    return this.hooks.updateWebhookDelivery(id, update);
  }

  getWebhookDelivery(id: string): Promise<WebhookDeliveryRow | undefined> {
    return this.hooks.getWebhookDelivery(id);
  }

  listWebhookDeliveries(endpointId: string, limit: number): Promise<WebhookDeliveryRow[]> {
    return this.hooks.listWebhookDeliveries(endpointId, limit);
  }

  // Guest tokens: see sql-kinds.ts.

  getGuestToken(connectionId: string, subject: string): Promise<GuestTokenRow | undefined> {
    return this.guests.get(connectionId, subject);
  }

  putGuestToken(row: GuestTokenRow, maxLive?: number): Promise<void> {
    return this.guests.put(row, maxLive);
  }

  // The refresh lifecycle: see sql-history.ts.

  insertRefreshHistory(row: RefreshHistoryRow, keep?: number): Promise<void> {
    return this.lifecycle.insertRefreshHistory(row, keep);
  }

  listRefreshHistory(connectionId: string, limit: number): Promise<RefreshHistoryRow[]> {
    return this.lifecycle.listRefreshHistory(connectionId, limit);
  }

  recordTokenMint(row: TokenMintRow): Promise<boolean> {
    return this.lifecycle.recordTokenMint(row);
  }

  liveTokenMints(
    personId: string,
    now: number,
    atMost?: number,
  ): Promise<{ count: number; oldestExpiresAt: number | undefined }> {
    return this.lifecycle.liveTokenMints(personId, now, atMost);
  }

  setWebexTokenCount(personId: string, accessTokens: number, at: number): Promise<void> {
    return this.lifecycle.setWebexTokenCount(personId, accessTokens, at);
  }

  getWebexTokenCount(personId: string): Promise<{ accessTokens: number; checkedAt: number } | undefined> {
    return this.lifecycle.getWebexTokenCount(personId);
  }

  recordRefreshFailure(
    id: string,
    holder: string,
    failure: RefreshFailure,
  ): Promise<{ failures: number; failingSince: number } | undefined> {
    return this.lifecycle.recordRefreshFailure(id, holder, failure);
  }

  // The proxy's call log: see sql-proxy-calls.ts.

  insertProxyCalls(rows: readonly ProxyCallRow[], keep?: number): Promise<void> {
    return this.calls.insert(rows, keep);
  }

  listProxyCalls(connectionId: string, limit: number): Promise<ProxyCallRow[]> {
    return this.calls.list(connectionId, limit);
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
