/**
 * The low-level storage interface of the vault. Every implementation (SQLite, PostgreSQL) runs the same conformance
 * suite (test/vault/store.conformance.test.ts). Rows hold secrets only as envelope-encrypted strings; the store
 * never sees a plaintext secret. Times are epoch ms.
 */

/** A stored integration row. */
export interface IntegrationRow {
  id: string;
  clientId: string;
  apiBase: string;
  redirectUri: string;
  scopes: string[];
  secretEnc: string;
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

/** A stored connection row, with its encrypted token pair, fencing `version` and refresh lease. */
export interface ConnectionRow {
  id: string;
  integrationId: string;
  personId: string;
  personEmail: string;
  personEmails: string[];
  displayName: string;
  avatar: string | undefined;
  orgId: string | undefined;
  scopes: string[];
  requestedScopes: string[];
  status: 'active' | 'needs_reauth';
  accessTokenEnc: string;
  refreshTokenEnc: string;
  keyId: string;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  /** When the keep-alive sweep should refresh this connection (indexed); undefined when not active. */
  keepaliveDueAt: number | undefined;
  lastRefreshAt: number | undefined;
  lastError: string | undefined;
  /** Incremented by every token write: the fencing token of compare-and-set. */
  version: number;
  leaseHolder: string | undefined;
  leaseExpiresAt: number | undefined;
  createdAt: number;
  updatedAt: number;
}

/** The fields a token write replaces. */
export interface TokenWrite {
  accessTokenEnc: string;
  refreshTokenEnc: string;
  keyId: string;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  keepaliveDueAt: number | undefined;
  scopes: string[];
  lastRefreshAt: number;
  updatedAt: number;
}

/** A stored broker API key (hash only). */
export interface ApiKeyRow {
  id: string;
  name: string;
  keyHash: string;
  prefix: string;
  connectionIds: string[];
  createdAt: number;
  lastUsedAt: number | undefined;
  revokedAt: number | undefined;
}

/** The vault's storage. All writes that race are single atomic statements (compare-and-set), never read-then-write. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies the numbered migrations not yet recorded; safe to call concurrently from several processes. */
  migrate(): Promise<string[]>;

  /** Inserts, or updates the row with the same (clientId, apiBase), keeping its id; returns the stored row. */
  upsertIntegration(row: IntegrationRow): Promise<IntegrationRow>;
  getIntegration(id: string): Promise<IntegrationRow | undefined>;
  findIntegration(clientId: string, apiBase: string): Promise<IntegrationRow | undefined>;
  listIntegrations(): Promise<IntegrationRow[]>;

  /**
   * Inserts, or updates the row with the same (integrationId, personId) keeping its id and createdAt (version + 1,
   * lease cleared, status active); `created` tells which.
   */
  upsertConnection(row: ConnectionRow): Promise<{ row: ConnectionRow; created: boolean }>;
  getConnection(id: string): Promise<ConnectionRow | undefined>;
  findConnection(integrationId: string, personId: string): Promise<ConnectionRow | undefined>;
  listConnections(): Promise<ConnectionRow[]>;
  deleteConnection(id: string): Promise<boolean>;

  /** Takes the refresh lease if free, expired or already ours; returns the row as leased, else undefined. */
  acquireLease(id: string, holder: string, expiresAt: number, now: number): Promise<ConnectionRow | undefined>;
  /** Drops our lease (no-op if someone else holds it). */
  releaseLease(id: string, holder: string): Promise<void>;
  /**
   * Writes new tokens iff the row still has `expectedVersion` and `holder` holds the lease (fencing): version + 1,
   * lease released, status active, last error cleared. False when refused (a stale holder).
   */
  writeTokens(id: string, expectedVersion: number, holder: string, write: TokenWrite): Promise<boolean>;
  /** Sets status and last error iff the version still matches (undefined: unconditionally); releases `holder`'s lease. */
  setStatus(
    id: string,
    status: 'active' | 'needs_reauth',
    lastError: string | undefined,
    now: number,
    expectedVersion?: number,
  ): Promise<boolean>;
  /** Records an error without changing status or version; releases the lease of `holder`. */
  recordError(id: string, holder: string, lastError: string, now: number): Promise<void>;
  /** Active connections due for keep-alive at `now`, earliest first, at most `limit` (served by the due-time index). */
  dueForKeepAlive(now: number, limit: number): Promise<ConnectionRow[]>;

  /** Rows whose secrets are encrypted under another key than `activeKeyId`, at most `limit` of each. */
  rowsNotUnderKey(
    activeKeyId: string,
    limit: number,
  ): Promise<{ integrations: IntegrationRow[]; connections: ConnectionRow[] }>;
  /** Counts rows not under `activeKeyId`. */
  countNotUnderKey(activeKeyId: string): Promise<number>;
  /** Replaces an integration's secret iff it is still `expectedSecretEnc`. */
  reencryptIntegration(id: string, expectedSecretEnc: string, secretEnc: string, keyId: string): Promise<boolean>;
  /** Replaces a connection's encrypted tokens iff the version matches and no live lease is held (version unchanged). */
  reencryptConnection(
    id: string,
    expectedVersion: number,
    now: number,
    enc: { accessTokenEnc: string; refreshTokenEnc: string; keyId: string },
  ): Promise<boolean>;

  insertApiKey(row: ApiKeyRow): Promise<void>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | undefined>;
  listApiKeys(): Promise<ApiKeyRow[]>;
  revokeApiKey(id: string, now: number): Promise<boolean>;
  touchApiKey(id: string, now: number): Promise<void>;

  /**
   * For the vault's caches: a number that changes whenever a row of `scope` may have changed, or undefined when the
   * store cannot tell right now. A cache keeps a row read after taking stamp `s` only while the stamp is still `s`
   * (vault/token-cache.ts, vault/api-keys.ts).
   *
   * - `connections`: any write by this store, or any commit by another process (SQLite) / any write to `connections`
   *   by any process (PostgreSQL).
   * - `apiKeys`: writes by *other* processes only — any commit (SQLite) / a revocation or delete in `api_keys`
   *   (PostgreSQL); the vault handles its own revocations itself, and its `lastUsedAt` writes do not move it.
   *
   * SQLite reads `PRAGMA data_version` at most once per event-loop turn; PostgreSQL counts LISTEN/NOTIFY messages
   * from migration 003's triggers and is undefined while not listening. Optional: without it the vault reads the
   * store on every request.
   */
  changeStamp?(scope: 'connections' | 'apiKeys'): number | undefined;

  /** Takes a named lease (e.g. the keep-alive sweep) if free, expired or ours. */
  acquireNamedLease(name: string, holder: string, expiresAt: number, now: number): Promise<boolean>;
  releaseNamedLease(name: string, holder: string): Promise<void>;

  close(): Promise<void>;
}
