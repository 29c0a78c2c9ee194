/**
 * The SQL store's statements for broker API keys (hash only; permissions from migration 003 on SQLite, 005 on
 * PostgreSQL), in the same portable SQL as sql.ts; {@link SqlStore} delegates to them. A NULL `permissions` column is
 * a legacy key (made before permissions existed); NULL `paths` / `methods` mean any.
 */
import type { Executor } from './sql.js';
import { list, num, optNum, type Row } from './sql-rows.js';
import type { ApiKeyRow } from './types.js';

/** A nullable JSON list column. */
const optList = (v: unknown): string[] | undefined => (v === null || v === undefined ? undefined : list(v));
/** A list as a nullable JSON column. */
const jsonOrNull = (v: string[] | undefined): string | null => (v === undefined ? null : JSON.stringify(v));

/** An `api_keys` row. */
export function apiKeyOf(r: Row): ApiKeyRow {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    name: String(r.name),
    keyHash: String(r.key_hash),
    prefix: String(r.prefix),
    connectionIds: list(r.connection_ids),
    permissions: optList(r.permissions),
    paths: optList(r.paths),
    methods: optList(r.methods),
    createdAt: num(r.created_at),
    lastUsedAt: optNum(r.last_used_at),
    revokedAt: optNum(r.revoked_at),
  };
}

/** The API-key statements over an executor. */
export class ApiKeyStatements {
  constructor(private readonly db: Executor) {}

  async insertApiKey(row: ApiKeyRow): Promise<void> {
    await this.db.run(
      `INSERT INTO api_keys (id, owner_id, name, key_hash, prefix, connection_ids, permissions, paths, methods,
         created_at, last_used_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
      [
        row.id,
        row.ownerId,
        row.name,
        row.keyHash,
        row.prefix,
        JSON.stringify(row.connectionIds),
        jsonOrNull(row.permissions),
        jsonOrNull(row.paths),
        jsonOrNull(row.methods),
        row.createdAt,
      ],
    );
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | undefined> {
    const r = (await this.db.all('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL', [keyHash]))[0];
    return r ? apiKeyOf(r) : undefined;
  }

  async getApiKey(id: string): Promise<ApiKeyRow | undefined> {
    const r = (await this.db.all('SELECT * FROM api_keys WHERE id = ?', [id]))[0];
    return r ? apiKeyOf(r) : undefined;
  }

  async listApiKeys(ownerId?: string): Promise<ApiKeyRow[]> {
    const rows =
      ownerId === undefined
        ? await this.db.all('SELECT * FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id')
        : await this.db.all(
            'SELECT * FROM api_keys WHERE revoked_at IS NULL AND owner_id = ? ORDER BY created_at, id',
            [ownerId],
          );
    return rows.map(apiKeyOf);
  }

  async revokeApiKey(id: string, now: number): Promise<boolean> {
    return (await this.db.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])) > 0;
  }

  async touchApiKey(id: string, now: number): Promise<void> {
    await this.db.run('UPDATE api_keys SET last_used_at = ? WHERE id = ?', [now, id]);
  }

  async setApiKeyPermissions(id: string, permissions: string[]): Promise<boolean> {
    const changed = await this.db.run('UPDATE api_keys SET permissions = ? WHERE id = ? AND revoked_at IS NULL', [
      JSON.stringify(permissions),
      id,
    ]);
    return changed > 0;
  }
}
