/**
 * The low-level storage interface of the vault. Every implementation (SQLite, PostgreSQL) runs the same conformance
 * suite (test/vault/store.conformance.test.ts). Rows hold secrets only as envelope-encrypted strings; the store
 * never sees a plaintext secret. Times are epoch ms.
 */
import type { ChangeScope } from './change-scopes.js';

export type { ChangeScope, TableScope } from './change-scopes.js';

/** A stored integration row. */
export interface IntegrationRow {
  id: string;
  /** The owner account id (`local`, `configured`, or an account's id); see vault/owners.ts. */
  ownerId: string;
  clientId: string;
  apiBase: string;
  redirectUri: string;
  scopes: string[];
  secretEnc: string;
  keyId: string;
  createdAt: number;
  updatedAt: number;
  /** What the row's client is: an integration (default), a Service App's client id/secret, or the bots' placeholder. */
  kind?: ConnectionKind | undefined;
}

/** What identity a connection holds (vault/kinds.ts): a person's integration grant, a Service App in one org, a bot. */
export type ConnectionKind = 'integration' | 'service_app' | 'bot';

/** Why a connection can no longer be refreshed. */
export type NeedsReauthReason = 'refresh_refused' | 'revoked_at_webex' | 'deauthorized';

/** A guest token a Service App minted for one subject, encrypted (slot bound to the connection id and subject). */
export interface GuestTokenRow {
  connectionId: string;
  subject: string;
  tokenEnc: string;
  keyId: string;
  expiresAt: number;
  createdAt: number;
}

/** A stored connection row, with its encrypted token pair, fencing `version` and refresh lease. */
export interface ConnectionRow {
  id: string;
  /** The owner account id (`local` or an account's id); see vault/owners.ts. */
  ownerId: string;
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
  /** The identity kind; undefined: `integration`. */
  kind?: ConnectionKind | undefined;
  /** Why it is `needs_reauth` (undefined while active). */
  needsReauthReason?: NeedsReauthReason | undefined;
  /** `service_app`: the Webex application id. */
  appId?: string | undefined;
  /** `service_app`: the integration connection (holding `spark:applications_token`) that fetches its tokens. */
  fetcherConnectionId?: string | undefined;
  /** Refreshes failed in a row on 5xx/429/network (0: not failing); undefined reads as 0. */
  refreshFailures?: number | undefined;
  /** When the current run of failing refreshes began (undefined: not failing). */
  refreshFailingSince?: number | undefined;
  /** No refresh is tried before this time while failing (the back-off schedule). */
  refreshNextAttemptAt?: number | undefined;
  /** The HTTP status of the last refresh error (0: no answer), never a body. */
  lastErrorStatus?: number | undefined;
}

/** One refresh and its outcome (the connection page's timeline, `status --history`). Never a secret. */
export interface RefreshHistoryRow {
  connectionId: string;
  /** Epoch ms. */
  at: number;
  /** Why it ran: `keepalive`, `ondemand`, `forced`, `proxy` or `reconcile`. */
  kind: string;
  /** `success`, `unchanged` (Webex returned the same token), `needs_reauth`, `failing`, `error`. */
  outcome: string;
  /** Webex's HTTP status (0: no answer). */
  status: number | undefined;
  durationMs: number;
  /** The error's code (never a body or a secret). */
  error: string | undefined;
}

/** One call through the proxy (the connection page's "Recent calls"). Never a body or token. */
export interface ProxyCallRow {
  connectionId: string;
  /** When the call was answered (epoch ms). */
  at: number;
  method: string;
  /** The path with ids replaced by `{id}`. */
  template: string;
  status: number;
  durationMs: number;
  /** Webex's `trackingid` answer header. */
  trackingId: string | undefined;
}

/** An access token this broker minted for a person (counted against the person's live-token cap until it expires). */
export interface TokenMintRow {
  connectionId: string;
  personId: string;
  accessExpiresAt: number;
  mintedAt: number;
}

/** A failed refresh (5xx/429/network) and the time before which none is tried again. */
export interface RefreshFailure {
  lastError: string;
  status: number | undefined;
  now: number;
  nextAttemptAt: number;
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

/** The outcome of {@link Store.claimForcedRefresh} for an existing connection. */
export type ForcedRefreshClaim = { claimed: true } | { claimed: false; retryAfterMs: number };

/** A stored broker API key (hash only). */
export interface ApiKeyRow {
  id: string;
  /** The owner account id (`local` or an account's id). */
  ownerId: string;
  name: string;
  keyHash: string;
  prefix: string;
  connectionIds: string[];
  /** What the key may do (permission names); undefined (NULL): a legacy key, made before permissions existed. */
  permissions?: string[] | undefined;
  /** `proxy` only: the path prefixes it may call; undefined (NULL): any. */
  paths?: string[] | undefined;
  /** `proxy` only: the HTTP methods it may use; undefined (NULL): any. */
  methods?: string[] | undefined;
  createdAt: number;
  lastUsedAt: number | undefined;
  revokedAt: number | undefined;
}

/** A person who signed in with Webex (team mode). Keyed by the Webex person id (the id_token's `sub`). */
export interface AccountRow {
  id: string;
  /** The Webex person id (OIDC `sub`); unique. */
  personId: string;
  email: string;
  displayName: string;
  orgId: string | undefined;
  createdAt: number;
  lastSignInAt: number;
}

/** A web session. The store never sees the session id: rows are keyed by its SHA-256. */
export interface SessionRow {
  idHash: string;
  /** The signed-in account, if any (also inside the encrypted data; here for sign-out-everywhere and counts). */
  accountId: string | undefined;
  /** The session's data, envelope-encrypted (slot bound to `idHash`). */
  dataEnc: string;
  keyId: string;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * A state whose authorization a callback took: each is answered at most once. Keyed by the SHA-256 of the state (the
 * pending authorization itself never reaches the store: the browser holds it, sealed; vault/sessions.ts).
 */
export interface TakenStateRow {
  stateHash: string;
  /** SHA-256 of the flow id the authorization was sealed to: only that browser is told it was used. */
  browserHash: string;
  /** When the authorization would have expired; the row is kept a day longer (the "already used" page). */
  expiresAt: number;
  /** The connection the answered flow produced. */
  connectionId: string | undefined;
}

/** An audit log entry as stored (vault/audit.ts validates it first: no secret, no control character). */
export interface AuditRow {
  id: string;
  /** Epoch ms. */
  at: number;
  actorKind: string;
  actorId: string | undefined;
  actorLabel: string | undefined;
  action: string;
  ownerId: string | undefined;
  target: string | undefined;
  address: string | undefined;
  detail: string | undefined;
}

/** Which audit entries to read, newest first. */
export interface AuditQuery {
  /** A member's view: entries whose owner_id or actor_id is this. */
  ownerId?: string | undefined;
  /** Only entries at or after this time. */
  since?: number | undefined;
  /** Only entries before this time (a page's cursor); with `beforeId`, before (before, beforeId) in (at, id) order. */
  before?: number | undefined;
  beforeId?: string | undefined;
  /** Only entries of this action. */
  action?: string | undefined;
  limit: number;
}

/** A lifecycle-event webhook endpoint of one owner: for all of the owner's events, or for one connection's. */
export interface WebhookEndpointRow {
  id: string;
  ownerId: string;
  /** Undefined (NULL): every event of the owner's connections and keys. */
  connectionId: string | undefined;
  url: string;
  /** The Standard Webhooks secret (`whsec_…`), envelope-encrypted (slot bound to the row id). */
  secretEnc: string;
  keyId: string;
  description: string | undefined;
  createdAt: number;
}

/** One event's delivery to one endpoint (the operator's `WEBHOOK_URL` is endpoint `operator`). */
export interface WebhookDeliveryRow {
  id: string;
  endpointId: string;
  /** The Standard Webhooks message id (`webhook-id`), the same on every retry and redelivery. */
  eventId: string;
  type: string;
  /** The JSON body sent (never a token, a secret or an email). */
  payload: string;
  attempts: number;
  lastStatus: number | undefined;
  /** The last failure's class (`http_500`, `network`, `redirect`, `refused_address`, …), never a body. */
  lastError: string | undefined;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | undefined;
}

/** What a delivery attempt changes. */
export interface WebhookDeliveryUpdate {
  attempts: number;
  lastStatus: number | undefined;
  lastError: string | undefined;
  updatedAt: number;
  /** Set when the attempt succeeded (an earlier success is kept otherwise). */
  deliveredAt?: number | undefined;
}

/** Which connections {@link Store.findConnections} returns (every given condition holds). */
export interface ConnectionFilter {
  ownerId?: string | undefined;
  status?: ConnectionRow['status'] | undefined;
  /** Only these ids (an empty list matches none). */
  ids?: readonly string[] | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

/** The vault's storage. All writes that race are single atomic statements (compare-and-set), never read-then-write. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies the numbered migrations not yet recorded; safe to call concurrently from several processes. */
  migrate(): Promise<string[]>;

  /** Inserts, or updates the row with the same (ownerId, clientId, apiBase), keeping its id; returns the stored row. */
  upsertIntegration(row: IntegrationRow): Promise<IntegrationRow>;
  getIntegration(id: string): Promise<IntegrationRow | undefined>;
  findIntegration(ownerId: string, clientId: string, apiBase: string): Promise<IntegrationRow | undefined>;
  /** Every integration, or those of one owner. */
  listIntegrations(ownerId?: string): Promise<IntegrationRow[]>;
  /** How many integrations `ownerId` owns (the per-account cap). */
  countIntegrations(ownerId: string): Promise<number>;
  /** Hands a `fromOwner` row to `toOwner` (the configured integration adopting the local operator's row of the same client id). */
  setIntegrationOwner(id: string, fromOwner: string, toOwner: string): Promise<boolean>;

  /**
   * Inserts, or updates the row with the same (integrationId, personId, ownerId) keeping its id and createdAt
   * (version + 1, lease cleared, status active); `created` tells which.
   */
  upsertConnection(row: ConnectionRow): Promise<{ row: ConnectionRow; created: boolean }>;
  getConnection(id: string): Promise<ConnectionRow | undefined>;
  /**
   * Where a grant for (integrationId, personId, ownerId) goes, in one read: `undefined` when the integration does not
   * exist, else the id of the connection it would update (`connectionId` undefined: a new one).
   */
  findGrantTarget(
    integrationId: string,
    personId: string,
    ownerId: string,
  ): Promise<{ connectionId: string | undefined } | undefined>;
  /** Every connection, or those of one owner. */
  listConnections(ownerId?: string): Promise<ConnectionRow[]>;
  /**
   * One page of a walk over the connections in id order, with memory bounded by the page size whatever the store
   * holds: those with an id after `after` (the last id of the previous page; undefined: from the first), at most
   * `limit`, keeping only the given `status` and `kind` (`integration` includes rows stored with no kind). Keyset
   * pagination: the primary-key index serves every page alike, however far the walk has gone. A page shorter than
   * `limit` is the last one.
   */
  pageConnections(page: {
    after: string | undefined;
    limit: number;
    status?: ConnectionRow['status'] | undefined;
    kind?: ConnectionKind | undefined;
  }): Promise<ConnectionRow[]>;
  /**
   * The connections of `status` whose granted scopes include every one of `scopes`, in id order: the few admin
   * connections (`identity:tokens_read`…) reconciliation and "Revoke at Webex" act through, read without reading the
   * others into memory.
   */
  connectionsWithScopes(scopes: readonly string[], status: ConnectionRow['status']): Promise<ConnectionRow[]>;
  /** The connections of `ownerId`, most recently updated first, at most `limit` (the CLI's default pick). */
  latestConnections(ownerId: string, limit: number): Promise<ConnectionRow[]>;
  /**
   * The connections matching every given condition (an owner, a status, a list of ids), oldest first, from `offset`,
   * at most `limit`: a query, never a read of every connection.
   */
  findConnections(filter: ConnectionFilter): Promise<ConnectionRow[]>;
  /** How many connections have each status (a `GROUP BY`, not a listing). */
  countConnectionsByStatus(): Promise<Record<ConnectionRow['status'], number>>;
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
  /**
   * Sets status and last error iff the version still matches (undefined: unconditionally); releases `holder`'s lease.
   * `needs_reauth` records `reason` (default `refresh_refused`); `active` clears it.
   */
  setStatus(
    id: string,
    status: 'active' | 'needs_reauth',
    lastError: string | undefined,
    now: number,
    expectedVersion?: number,
    reason?: NeedsReauthReason,
  ): Promise<boolean>;
  /** Records an error without changing status or version; releases the lease of `holder`. */
  recordError(id: string, holder: string, lastError: string, now: number): Promise<void>;
  /**
   * Active connections due for keep-alive at `now` and not backing off (`refreshNextAttemptAt` later than `now`),
   * earliest first, at most `limit` (served by the due-time index).
   */
  dueForKeepAlive(now: number, limit: number): Promise<ConnectionRow[]>;
  /**
   * Claims for `holder` (its refresh lease until `expiresAt`) at most `limit` of the connections
   * {@link dueForKeepAlive} would list whose lease is free or expired, earliest due first: instances sharing the store
   * each claim their own rows (PostgreSQL skips rows another claim holds locked; SQLite has one writer).
   */
  claimDueForKeepAlive(now: number, limit: number, holder: string, expiresAt: number): Promise<ConnectionRow[]>;
  /** Every connection of one kind (`integration` includes rows stored with no kind), oldest first. */
  listConnectionsByKind(kind: ConnectionKind): Promise<ConnectionRow[]>;
  /**
   * Claims a forced refresh of connection `id` at `now` unless one was claimed less than `minIntervalMs` before (one
   * atomic `UPDATE … WHERE forced_refresh_at IS NULL OR forced_refresh_at <= now - minIntervalMs RETURNING`): of
   * concurrent claims inside one interval, across every process sharing the store, exactly one gets `claimed: true`;
   * the others get how long until the next claim can succeed (1 ms to `minIntervalMs`). `minIntervalMs` 0: always
   * claimed. A stamp more than one interval in the future (a clock that was ahead) counts as stale. Undefined when the
   * connection does not exist.
   */
  claimForcedRefresh(id: string, now: number, minIntervalMs: number): Promise<ForcedRefreshClaim | undefined>;

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
  /** The API key with this id, revoked or not. */
  getApiKey(id: string): Promise<ApiKeyRow | undefined>;
  /** Every API key, or those of one owner. */
  listApiKeys(ownerId?: string): Promise<ApiKeyRow[]>;
  revokeApiKey(id: string, now: number): Promise<boolean>;
  touchApiKey(id: string, now: number): Promise<void>;
  /**
   * Replaces the permissions of a key that is not revoked (a legacy key stops being one); false when it is unknown or
   * revoked. Moves the `apiKeys` change stamp of other processes, as a revocation does.
   */
  setApiKeyPermissions(id: string, permissions: string[]): Promise<boolean>;

  /** Inserts or updates the account with the same personId (keeping its id and createdAt); returns the stored row. */
  upsertAccount(row: AccountRow): Promise<AccountRow>;
  getAccount(id: string): Promise<AccountRow | undefined>;
  listAccounts(): Promise<AccountRow[]>;

  insertSession(row: SessionRow): Promise<void>;
  /** The session with this hash, unless expired at `now`. */
  getSession(idHash: string, now: number): Promise<SessionRow | undefined>;
  /** Replaces a session's data, account and expiry; false when it is gone. */
  updateSession(
    idHash: string,
    write: Pick<SessionRow, 'accountId' | 'dataEnc' | 'keyId' | 'expiresAt' | 'updatedAt'>,
  ): Promise<boolean>;
  /** Deletes a session. */
  deleteSession(idHash: string): Promise<boolean>;
  /**
   * Rotates a session's id (at sign-in, a completed authorization, `/configure`, an admin unlock): the row of
   * `fromIdHash` becomes `row` (its new id hash, data, account and expiry), so the old id finds nothing from then on.
   * When no row of `fromIdHash` is left (deleted meanwhile), `row` is inserted as a new session.
   */
  rotateSession(fromIdHash: string, row: SessionRow): Promise<void>;

  /**
   * Takes `row.stateHash`: one INSERT … ON CONFLICT DO NOTHING, true for the one caller across every process sharing
   * the store that inserted it, false for every other (the state was answered already).
   */
  takeState(row: Omit<TakenStateRow, 'connectionId'>): Promise<boolean>;
  /** The taken state `stateHash` of `browserHash` (the "already used" page). */
  getTakenState(stateHash: string, browserHash: string): Promise<TakenStateRow | undefined>;
  /** Records the connection a taken state's authorization produced. */
  completeTakenState(stateHash: string, connectionId: string): Promise<void>;
  /** Deletes sessions expired before `now`, and taken states a day after their authorization's expiry. */
  purgeExpired(now: number): Promise<number>;

  /** Appends an audit entry. */
  insertAudit(row: AuditRow): Promise<void>;
  /** Audit entries matching `query`, newest first (at, then id, descending), at most `query.limit`. */
  listAudit(query: AuditQuery): Promise<AuditRow[]>;
  /** Deletes audit entries older than `before` (epoch ms); returns how many. */
  purgeAudit(before: number): Promise<number>;

  insertWebhookEndpoint(row: WebhookEndpointRow): Promise<void>;
  getWebhookEndpoint(id: string): Promise<WebhookEndpointRow | undefined>;
  /** Every endpoint, or those of one owner, oldest first. */
  listWebhookEndpoints(ownerId?: string): Promise<WebhookEndpointRow[]>;
  /** The endpoints an event of `ownerId` reaches: the owner's account-wide ones and, with a connection, its own. */
  webhookTargets(ownerId: string, connectionId: string | undefined): Promise<WebhookEndpointRow[]>;
  /** Deletes an endpoint and its delivery log. */
  deleteWebhookEndpoint(id: string): Promise<boolean>;
  /** Deletes the endpoints of one connection (and their logs); returns how many. */
  deleteConnectionWebhooks(connectionId: string): Promise<number>;
  /** Replaces an endpoint's secret iff it is still `expectedSecretEnc` (key rotation). */
  reencryptWebhookEndpoint(id: string, expectedSecretEnc: string, secretEnc: string, keyId: string): Promise<boolean>;
  /** Appends a delivery and keeps only the newest `keep` of its endpoint. */
  insertWebhookDelivery(row: WebhookDeliveryRow, keep: number): Promise<void>;
  /** Records an attempt's outcome; false when the delivery is gone (trimmed or its endpoint deleted). */
  updateWebhookDelivery(id: string, update: WebhookDeliveryUpdate): Promise<boolean>;
  getWebhookDelivery(id: string): Promise<WebhookDeliveryRow | undefined>;
  /** An endpoint's deliveries, newest first, at most `limit`. */
  listWebhookDeliveries(endpointId: string, limit: number): Promise<WebhookDeliveryRow[]>;

  /**
   * For the vault's caches: a number that changes whenever a row of `scope` may have changed, or undefined when the
   * store cannot tell right now. A cache keeps a row read after taking stamp `s` only while the stamp is still `s`
   * (vault/token-cache.ts, vault/api-keys.ts).
   *
   * - `connections`: any write by this store, or any commit by another process (SQLite) / any write to `connections`
   *   by any process (PostgreSQL).
   * - `apiKeys`: writes by *other* processes only — any commit (SQLite) / a revocation or delete in `api_keys`
   *   (PostgreSQL); the vault handles its own revocations itself, and its `lastUsedAt` writes do not move it.
   * - `integrations`, `webhookEndpoints` ({@link TableScope}): a write by this store to a statement naming the scope's
   *   table, or any commit by another process (SQLite) / any write to that table by any process (PostgreSQL,
   *   migration 012). Unlike `connections`, the other writes of a browser flow (sessions, grants) leave them still.
   *
   * SQLite reads `PRAGMA data_version` at most once per event-loop turn; PostgreSQL counts LISTEN/NOTIFY messages
   * from its migrations' triggers and is undefined while not listening. Optional: without it the vault reads the
   * store on every request.
   */
  changeStamp?(scope: ChangeScope): number | undefined;

  /**
   * Runs `fn` (a run of store calls with no network wait between them) with its writes committed together: SQLite
   * commits them as one transaction (a WAL commit per statement costs more than the statement), others commit each
   * statement as usual. Not a unit of atomicity: each statement still succeeds or fails on its own and nothing is
   * rolled back because `fn` throws, so other requests' statements that run meanwhile on the same connection (they
   * share it) are safe to join it. `fn` should not wait on I/O: SQLite commits a group still open at the end of the
   * event-loop turn it began in, so that its write lock is never held across a network wait.
   */
  writeTogether<T>(fn: () => Promise<T>): Promise<T>;

  /** The stored guest token of (connection, subject), live or not. */
  getGuestToken(connectionId: string, subject: string): Promise<GuestTokenRow | undefined>;
  /**
   * Inserts or replaces the guest token of (connection, subject); the connection's expired guest tokens (at
   * `row.createdAt`) are deleted, and beyond `maxLive` (default 10,000) its oldest go.
   */
  putGuestToken(row: GuestTokenRow, maxLive?: number): Promise<void>;

  /** Appends a refresh to the connection's history, keeping its newest `keep` rows (default 200). */
  insertRefreshHistory(row: RefreshHistoryRow, keep?: number): Promise<void>;
  /** The connection's newest refreshes, newest first. */
  listRefreshHistory(connectionId: string, limit: number): Promise<RefreshHistoryRow[]>;
  /** Appends proxied calls (any connections), keeping each connection's newest `keep` (default 100). */
  insertProxyCalls(rows: readonly ProxyCallRow[], keep?: number): Promise<void>;
  /** The connection's newest proxied calls, newest first. */
  listProxyCalls(connectionId: string, limit: number): Promise<ProxyCallRow[]>;
  /** Records a minted access token; false when the same (connection, expiry) was recorded already (an unchanged token). */
  recordTokenMint(row: TokenMintRow): Promise<boolean>;
  /**
   * The person's access tokens minted here and still live at `now`, counted up to `atMost` (default: all), and when the
   * oldest of them expires.
   */
  liveTokenMints(
    personId: string,
    now: number,
    atMost?: number,
  ): Promise<{ count: number; oldestExpiresAt: number | undefined }>;
  /** Caches Webex's own count of the person's access tokens (read through an admin connection). */
  setWebexTokenCount(personId: string, accessTokens: number, at: number): Promise<void>;
  getWebexTokenCount(personId: string): Promise<{ accessTokens: number; checkedAt: number } | undefined>;
  /**
   * Records a failed refresh (5xx/429/network) without changing status or version: failures + 1, failing-since kept
   * from the first failure, the next attempt time — also the keep-alive due time of a row that has one, so the sweep
   * retries it then on its own; releases `holder`'s lease. Undefined when the row is gone.
   */
  recordRefreshFailure(
    id: string,
    holder: string,
    failure: RefreshFailure,
  ): Promise<{ failures: number; failingSince: number } | undefined>;

  /** Takes a named lease (e.g. the keep-alive sweep) if free, expired or ours. */
  acquireNamedLease(name: string, holder: string, expiresAt: number, now: number): Promise<boolean>;
  releaseNamedLease(name: string, holder: string): Promise<void>;

  close(): Promise<void>;
}
