/**
 * The public shapes of the token vault: stored integrations, connections (one integration + one Webex person),
 * broker API keys, and the {@link Vault} facade that the server, the CLI and the broker use.
 * No type here carries token material except {@link RevealedTokens} and {@link FreshToken}.
 */
import type { Logger } from 'pino';
import { WebexAuthError } from '../errors.js';
import type { Clock, FetchLike, Integration, PendingAuthorization, TokenSet } from '../oauth/types.js';
import type { TokenCapStatus } from './cap.js';
import type { RefreshFailingState, RefreshRecord } from './history.js';
import type { ProxyCalls } from './proxy-calls.js';
import type { ReconcileResult } from './reconcile.js';
import type { ConnectionFilter, ConnectionKind, NeedsReauthReason } from './store/types.js';
import type { VaultWebhooks } from './webhook-types.js';

export type { ConnectionFilter, ConnectionKind, NeedsReauthReason } from './store/types.js';

/** Where the vault's encryption key came from: `WEBEX_AUTH_KEYS`, the OS keychain, or a 0600 key file. */
export type KeySource = 'env' | 'keychain' | 'file';

/** A stored Webex integration, without its secret. */
export interface IntegrationRecord {
  id: string;
  /** Who owns it: {@link CONFIGURED_OWNER} for the configured integration, else the account that brought it. */
  ownerId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  apiBase: string;
  /** Epoch ms. */
  createdAt: number;
}

/** What `integrations.upsert` takes; the client secret is stored encrypted. */
export interface IntegrationInput {
  /**
   * The owner (default {@link LOCAL_OPERATOR}). Integrations are keyed by owner + client id + API base: an upsert
   * never changes another owner's row. The configured (env) integration is owned by {@link CONFIGURED_OWNER}.
   */
  ownerId?: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scopes: string[];
  apiBase: string;
}

/** The Webex person a connection belongs to, as given at grant time. */
export interface ConnectionPerson {
  id: string;
  emails: string[];
  displayName: string;
  avatar?: string | undefined;
  orgId?: string | undefined;
}

/** Status of a connection: `needs_reauth` once Webex refused its refresh token (the row is kept). */
export type ConnectionStatus = 'active' | 'needs_reauth';

/** A connection (one integration + one Webex person), without token material. Times are epoch ms. */
export interface Connection extends Partial<RefreshFailingState> {
  id: string;
  /** The owner account id ({@link LOCAL_OPERATOR} in local mode and for the CLI). */
  ownerId: string;
  integrationId: string;
  personId: string;
  personEmail: string;
  displayName: string;
  avatar?: string | undefined;
  orgId?: string | undefined;
  /** The person, grouped (the same values as the flat fields above). */
  person: { id: string; displayName: string; email: string; emails: string[]; avatar?: string | undefined };
  /** Granted scopes. */
  scopes: string[];
  requestedScopes: string[];
  status: ConnectionStatus;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  lastRefreshAt?: number | undefined;
  /** The last refresh error's code (never a secret), e.g. `invalid_request` or `upstream_unavailable`. */
  lastError?: string | undefined;
  createdAt: number;
  updatedAt: number;
  /** The identity kind: a person's `integration` grant, a `service_app` in one org, or a `bot` (undefined: `integration`). */
  kind?: ConnectionKind | undefined;
  /** Why it is `needs_reauth` (undefined while active). */
  needsReauthReason?: NeedsReauthReason | undefined;
  /** `service_app`: the Webex application id. */
  appId?: string | undefined;
  /** `service_app`: the integration connection that fetches its tokens. */
  fetcherConnectionId?: string | undefined;
}

/** What `connections.saveFromGrant` takes. */
export interface SaveGrantInput {
  /** The owner (default {@link LOCAL_OPERATOR}); a connection is keyed by integration + person + owner. */
  ownerId?: string;
  integrationId: string;
  tokens: TokenSet;
  person: ConnectionPerson;
  requestedScopes: string[];
  /** The identity kind (default `integration`); a `bot` is never due for keep-alive. */
  kind?: ConnectionKind;
  /** `service_app`: the Webex application id. */
  appId?: string;
  /** `service_app`: the integration connection that fetches its tokens. */
  fetcherConnectionId?: string;
}

/** What `identities.addServiceApp` takes (the client secret is stored encrypted). */
export interface ServiceAppInput {
  /** The owner (default {@link LOCAL_OPERATOR}); must own the fetching connection. */
  ownerId?: string;
  /** The Webex application id of the Service App. */
  appId: string;
  clientId: string;
  clientSecret: string;
  /** The org the app was authorized in (by a Full Admin, in Control Hub). */
  orgId: string;
  /** An integration connection of the same owner holding `spark:applications_token`. */
  fetcherConnectionId: string;
}

/** A guest token a Service App minted. */
export interface GuestToken {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Whether it is a live token minted earlier for the same subject. */
  reused: boolean;
}

/** A connection's token pair in clear (for the page that made it and the CLI's `--show`). */
export interface RevealedTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  refreshExpiresAt: number;
}

/** What `getFreshToken` returns: an access token valid for at least the asked number of seconds. */
export interface FreshToken {
  accessToken: string;
  /** False when the token's whole lifetime is shorter than asked: it is the freshest one, and no refresh loop follows. */
  minValidityMet: boolean;
  /** Epoch ms. */
  expiresAt: number;
  scopes: string[];
  person: { id: string; email: string; displayName: string };
}

/**
 * What a broker API key may do: `token` (read a fresh access token), `refresh` (force a refresh), `proxy` (call Webex
 * through the broker), `delete` (delete the connection), `guests` (mint guest tokens through a Service App).
 */
export type KeyPermission = 'token' | 'refresh' | 'proxy' | 'delete' | 'guests';
/** Every permission, in display order. */
export const KEY_PERMISSIONS: readonly KeyPermission[] = ['token', 'refresh', 'proxy', 'delete', 'guests'];
/** The powers every key had before permissions existed; such keys keep them until narrowed. */
export const LEGACY_KEY_PERMISSIONS: readonly KeyPermission[] = ['token', 'refresh', 'delete'];

/** A broker API key as stored (the key itself only as a hash). */
export interface ApiKeyRecord {
  id: string;
  /** The owner account id. */
  ownerId: string;
  /** What it may do (a legacy key: {@link LEGACY_KEY_PERMISSIONS}). */
  permissions: KeyPermission[];
  /** Made before permissions existed (it keeps the powers it had until narrowed). */
  legacy: boolean;
  /** `proxy` only: path prefixes it may call (e.g. `rooms`, `messages`); undefined: any. */
  paths?: string[] | undefined;
  /** `proxy` only: HTTP methods it may use; undefined: any. */
  methods?: string[] | undefined;
  name: string;
  /** The connections this key may read. */
  connectionIds: string[];
  /** The first characters of the key, for recognising it in lists (`wak_AbCd…`). */
  prefix: string;
  createdAt: number;
  lastUsedAt?: number | undefined;
}

/** The owner of everything the local operator (local mode, the CLI) makes, and of rows made before accounts existed. */
export const LOCAL_OPERATOR = 'local';
/** The owner of the configured integration (WEBEX_CLIENT_ID …): no account, and no form may change it. */
export const CONFIGURED_OWNER = 'configured';

/** A person who signed in with Webex (team mode). */
export interface AccountRecord {
  id: string;
  /** The Webex person id (the id_token's `sub`). */
  personId: string;
  email: string;
  displayName: string;
  orgId?: string | undefined;
  createdAt: number;
  lastSignInAt: number;
}

/** What `accounts.upsert` takes. */
export interface AccountInput {
  personId: string;
  email: string;
  displayName: string;
  orgId?: string | undefined;
}

/** A web session as the server sees it; the id is the cookie's value and is stored only as a hash. */
export interface WebSession {
  id: string;
  accountId: string | undefined;
  /** The server's session data (JSON), stored encrypted. */
  data: Record<string, unknown>;
  expiresAt: number;
  createdAt: number;
}

/** An authorization a session started. */
export interface PendingEntry {
  purpose: 'signin' | 'connect';
  integrationId: string;
  pending: PendingAuthorization;
  /** The owner a `connect` flow was started for; its callback stores the connection for this owner only. */
  ownerId?: string | undefined;
  /** A local path the callback leads to instead of the connection page (already validated; kept encrypted). */
  returnTo?: string | undefined;
}

/** A pending authorization opened from its sealed cookie (no secret but what the entry holds). */
export interface OpenedPending extends PendingEntry {
  /** The path of the redirect URI the flow uses (a brought integration's callback is served there only for it). */
  redirectPath: string;
  /** Epoch ms after which it opens no more. */
  expiresAt: number;
}

/** A state a callback took: answered once, and the connection it produced. */
export interface TakenState {
  connectionId: string | undefined;
}

/** Web sessions in the store (shared by every instance on it), and pending authorizations sealed for their browser. */
export interface WebSessions {
  create(input: { accountId?: string | undefined; data?: Record<string, unknown>; ttlMs: number }): Promise<WebSession>;
  /** The live session with this id; undefined when unknown, expired, or not decryptable with the key ring. */
  get(id: string): Promise<WebSession | undefined>;
  /** Writes `session.data`/`accountId` and extends the expiry by `ttlMs`; false when the session is gone. */
  save(session: WebSession, ttlMs: number): Promise<boolean>;
  /** A new id for the same session; the old id stops working. */
  rotate(session: WebSession, ttlMs: number): Promise<WebSession>;
  destroy(id: string): Promise<void>;
  /**
   * Seals `entry` for the browser whose flow id is `browserId`: the value of the cookie named by the state's
   * `pendingKey` (vault/sessions.ts), which holds it until its callback (nothing is stored). It opens only for that
   * flow id under that key, until `ttlMs` from now.
   * @throws {VaultError} `invalid_request` for a malformed flow id or entry.
   */
  sealPending(browserId: string, entry: PendingEntry, ttlMs: number): string;
  /** The unexpired pending authorization `sealed` holds for this browser under `key`; else undefined (never throws). */
  openPending(browserId: string, key: string, sealed: string | undefined): OpenedPending | undefined;
  /**
   * Opens `sealed` as {@link openPending} and takes its state: at most once across every process sharing the store,
   * so one answer from Webex is exchanged once. Undefined when it does not open or the state was taken before.
   */
  takePending(browserId: string, state: string, sealed: string | undefined): Promise<PendingEntry | undefined>;
  /** The state this browser's callback took, if it did (the "already used" page; no secret). */
  findTaken(browserId: string, state: string): Promise<TakenState | undefined>;
  /** Records the connection a taken state's authorization produced. */
  completePending(state: string, connectionId: string): Promise<void>;
  /** Deletes expired sessions and taken states past their keep; returns how many rows went. */
  purgeExpired(): Promise<number>;
}

/** What the audit log records. */
export type AuditAction =
  | 'signin'
  | 'signin.refused'
  | 'signout'
  | 'connect'
  | 'reauthorize'
  | 'refresh.forced'
  | 'refresh.refused'
  | 'key.create'
  | 'key.revoke'
  | 'key.narrow'
  | 'connection.delete'
  | 'connection.revoke'
  | 'integration.configure'
  | 'webhook.create'
  | 'webhook.delete'
  | 'webhook.redeliver'
  | 'guest.token'
  | 'admin.unlock';

/** Who did it. */
export interface AuditActor {
  kind: 'account' | 'local' | 'admin-token' | 'key' | 'cli' | 'anonymous';
  /** The account id or API key id. */
  id?: string | undefined;
  /** A readable name (the account's email, the key's prefix). */
  label?: string | undefined;
}

/** One audit entry. Never holds a secret. */
export interface AuditEntry {
  id: string;
  /** Epoch ms. */
  at: number;
  actor: AuditActor;
  action: AuditAction;
  /** Whose thing it concerned (members see the entries of their own things and their own actions). */
  ownerId?: string | undefined;
  /** The connection, key or integration id. */
  target?: string | undefined;
  /** The client address (server) or `cli`. */
  address?: string | undefined;
  /** A short plain-text note (e.g. the permissions of a new key). */
  detail?: string | undefined;
}

/** Which audit entries `audit.list` returns, newest first. */
export interface AuditFilter {
  /** A member's view: entries whose `ownerId` or `actor.id` is this. */
  ownerId?: string | undefined;
  /** Only entries at or after this time (epoch ms). */
  since?: number | undefined;
  /** Only entries before this time (epoch ms): the next page after an entry at `before`… */
  before?: number | undefined;
  /** …and, with it, after that entry's id (entries of one millisecond are split across pages without a loss). */
  beforeId?: string | undefined;
  /** Only this action. */
  action?: AuditAction | undefined;
  /** At most this many (default 50, at most 1,000). */
  limit?: number | undefined;
}

/**
 * Lifecycle events the broker sends (Standard Webhooks: `WEBHOOK_URL`, account and connection endpoints).
 * `connection.*` events are about a connection (`data.connectionId`); `key.*` events about a broker API key
 * (`data.keyId`).
 */
export type VaultEvent =
  | 'connection.created'
  | 'connection.refreshed'
  | 'connection.refresh_failing'
  | 'connection.recovered'
  | 'connection.needs_reauth'
  | 'connection.revoked'
  | 'connection.deauthorized'
  | 'connection.deleted'
  | 'key.created'
  | 'key.revoked';

/** Every {@link VaultEvent}, in display order. */
export const VAULT_EVENTS: readonly VaultEvent[] = [
  'connection.created',
  'connection.refreshed',
  'connection.refresh_failing',
  'connection.recovered',
  'connection.needs_reauth',
  'connection.revoked',
  'connection.deauthorized',
  'connection.deleted',
  'key.created',
  'key.revoked',
];

/** Extra plain facts of an event, merged into its `data` (never a token, a secret or an email). */
export type VaultEventExtra = Record<string, string | number | boolean | null>;

/** Progress of a key rotation. */
export interface RotationProgress {
  done: number;
  total: number;
}

/** Options of {@link Vault.startKeepAlive}. */
export interface KeepAliveOptions {
  /** How often a sweep runs (default one hour). */
  intervalMs?: number;
}

/** Result of one keep-alive sweep. */
export interface SweepResult {
  /**
   * False when this process was already sweeping or is closing; instances sharing the store each sweep (claiming their
   * own due connections), so another instance's sweep no longer makes this one skip.
   */
  ran: boolean;
  refreshed: number;
  failed: number;
}

/** The token vault: integrations, connections, broker API keys, and the refresher. */
export interface Vault {
  integrations: {
    upsert(input: IntegrationInput): Promise<IntegrationRecord>;
    get(id: string): Promise<IntegrationRecord | undefined>;
    /** The integration of `ownerId` (default {@link LOCAL_OPERATOR}) with this client id and API base. */
    findByClientId(clientId: string, apiBase: string, ownerId?: string): Promise<IntegrationRecord | undefined>;
    /** Every integration, or those of one owner. */
    list(ownerId?: string): Promise<IntegrationRecord[]>;
    count(ownerId: string): Promise<number>;
  };
  accounts: {
    /** Creates or updates the account of a Webex person (at each sign-in). */
    upsert(input: AccountInput): Promise<AccountRecord>;
    get(id: string): Promise<AccountRecord | undefined>;
    list(): Promise<AccountRecord[]>;
  };
  sessions: WebSessions;
  audit: {
    /** Appends an entry (id and time are the vault's). */
    record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void>;
    /** Newest first: every entry, or those a member may see (`ownerId` or `actor.id` is theirs). */
    list(filter?: AuditFilter): Promise<AuditEntry[]>;
    /** Deletes entries older than `AUDIT_RETENTION_DAYS`; returns how many. */
    purge(): Promise<number>;
  };
  /**
   * Keys derived (HKDF-SHA256) from every key of the key ring for `purpose`, the active key's first: a signer signs
   * with the first and accepts any, so instances sharing WEBEX_AUTH_KEYS share cookies and a rotation keeps them.
   * One array per purpose, refilled in place by {@link Vault.reloadKeys}: read it at each use to follow a reload.
   */
  deriveKeys(purpose: string): Buffer[];
  /** The integration with its decrypted secret, for the OAuth calls. */
  getIntegrationWithSecret(id: string): Promise<(Integration & IntegrationRecord) | undefined>;
  /**
   * Runs `fn`, a run of vault calls with no network wait between them, with their store writes committed together
   * (one SQLite transaction instead of one per statement; see the store's `writeTogether`). Each write still
   * succeeds or fails on its own: this saves commits, it is not a unit of atomicity.
   */
  writeTogether<T>(fn: () => Promise<T>): Promise<T>;
  connections: {
    /** Stores a grant; authorizing the same (integration, person) again updates the connection. */
    saveFromGrant(input: SaveGrantInput): Promise<Connection>;
    get(id: string): Promise<Connection | undefined>;
    /** Every connection, or those of one owner. */
    list(ownerId?: string): Promise<Connection[]>;
    /** Every connection of one kind, every owner's (a query by kind: never reads the other connections). */
    listByKind(kind: ConnectionKind): Promise<Connection[]>;
    /** The connections matching every given condition, oldest first, paged (a store query, not a full listing). */
    find(filter: ConnectionFilter): Promise<Connection[]>;
    /** How many connections have each status (counted by the store). */
    countByStatus(): Promise<Record<Connection['status'], number>>;
    /** True when a connection was deleted. */
    delete(id: string): Promise<boolean>;
    revealTokens(id: string): Promise<RevealedTokens | undefined>;
    /**
     * An access token valid for at least `minValiditySeconds` (default 60), refreshing first when needed.
     * @throws {VaultError} `not_found`, `needs_reauth`, `upstream_unavailable` (with `retryAfter`).
     */
    getFreshToken(id: string, minValiditySeconds?: number): Promise<FreshToken>;
    /**
     * What `getFreshToken` would answer, when that needs no wait: the connection's row and decrypted token are held
     * fresh in memory (token-cache.ts), it is not `needs_reauth` and its token needs no refresh. Otherwise undefined:
     * call `getFreshToken`. The answer is frozen and may be shared between calls.
     */
    cachedFreshToken?(id: string, minValiditySeconds?: number): FreshToken | undefined;
    /**
     * Webex answered 401 to `refusedToken`: refreshes once unless the stored token is already another one. Not a
     * forced refresh (no FORCED_REFRESH_MIN_INTERVAL): it shares the refresher's single flight, so any number of
     * concurrent callers refused the same token cause one refresh, and a caller whose token was already replaced
     * causes none. A token refreshed less than 30 s ago is returned as it is (no refresh per request when Webex
     * refuses every token for some call).
     * @throws {VaultError} as {@link getFreshToken}.
     */
    renewRefused(id: string, refusedToken: string): Promise<FreshToken>;
    /**
     * Refreshes now (single flight), whatever the remaining validity: a *forced* refresh, at most one per connection
     * per `FORCED_REFRESH_MIN_INTERVAL` seconds across every process sharing the store.
     * @throws {VaultError} `rate_limited` (with `retryAfter`) inside that interval.
     */
    refresh(id: string): Promise<Connection>;
    /**
     * Turns a connection `needs_reauth` with `reason` (default `refresh_refused`); sends `connection.needs_reauth`
     * (and `connection.deauthorized` for that reason). False when it already was, with any reason: the first one wins.
     */
    markNeedsReauth(id: string, reason?: NeedsReauthReason): Promise<boolean>;
    /**
     * Where the connection's person stands against Webex's live-token cap (cap.ts); undefined: no such connection.
     * `personId`: the connection's person, for a caller that has just read the connection (and checked who may see
     * it): its row is then not read, `id` is not checked, and a status is always returned.
     */
    tokenCap(id: string, personId?: string): Promise<TokenCapStatus | undefined>;
    /** The connection's newest refreshes and their outcomes, newest first (at most 200). */
    history(id: string, limit?: number): Promise<RefreshRecord[]>;
    /**
     * Deletes the connection's grant at Webex through an admin connection of its org (`identity:tokens_write`), then
     * marks it `needs_reauth` (`revoked_at_webex`) and fires `connection.revoked`.
     * @throws {VaultError} `conflict` naming what is missing.
     */
    revokeAtWebex(id: string): Promise<{ deleted: number }>;
  };
  /** The identity kinds beyond a person's grant (identities.ts): bots, Service Apps, guest tokens. */
  identities: {
    /**
     * Stores a bot token (checked with `people/me`: its `type` must be `bot`) as a connection of kind `bot`.
     * @throws {VaultError} `invalid_request` for a person's token or a token Webex refuses.
     */
    addBot(input: { ownerId?: string; apiBase: string; token: string }): Promise<Connection>;
    /**
     * Fetches a Service App's token pair for an org through the fetching connection and stores it (kind `service_app`).
     * @throws {VaultError} `forbidden` when Webex refuses (the app is not authorized in the org).
     */
    addServiceApp(input: ServiceAppInput): Promise<Connection>;
    /** A `serviceApp` `authorized` event: onboards `orgId` for every owner that has app `appId` in another org. */
    serviceAppAuthorized(appId: string, orgId: string): Promise<Connection[]>;
    /**
     * A `serviceApp` `deauthorized` event: the app's connections in `orgId` turn `needs_reauth` (`deauthorized`) —
     * unless the app's token can still be fetched there (a replayed delivery: ignored).
     */
    serviceAppDeauthorized(appId: string, orgId: string): Promise<string[]>;
    /** A guest token for `subject` from Service App connection `id`, reusing a live one minted earlier. */
    guestToken(id: string, guest: { subject: string; displayName: string }): Promise<GuestToken>;
  };
  apiKeys: {
    create(input: {
      name: string;
      connectionIds: string[];
      /** Default {@link LOCAL_OPERATOR}. */
      ownerId?: string;
      /** Default `['token']`. */
      permissions?: KeyPermission[];
      paths?: string[];
      methods?: string[];
    }): Promise<{ key: string; record: ApiKeyRecord }>;
    /** Replaces a key's permissions (a legacy key stops being one); false when it is unknown or revoked. */
    narrow(id: string, permissions: KeyPermission[]): Promise<boolean>;
    verify(key: string): Promise<ApiKeyRecord | undefined>;
    /**
     * The key's record when the verified-key cache holds it and needs no store access (else undefined: call `verify`),
     * synchronously; frozen and shared between calls.
     */
    cached?(key: string): Readonly<ApiKeyRecord> | undefined;
    /** Every key, or those of one owner. */
    list(ownerId?: string): Promise<ApiKeyRecord[]>;
    /** True when a key was revoked. */
    revoke(id: string): Promise<boolean>;
  };
  /** Lifecycle-event webhook endpoints members own, and their delivery log (webhook-endpoints.ts). */
  webhooks: VaultWebhooks;
  /** The proxy's call log: the newest calls per connection (proxy-calls.ts). */
  proxyCalls: ProxyCalls;
  /** Re-encrypts every secret under the active key, in batches, while serving. */
  rotateKeys(onProgress?: (p: RotationProgress) => void): Promise<RotationProgress>;
  /**
   * Reads the key ring again from `WEBEX_AUTH_KEYS_FILE` (what `webex-auth serve` does on SIGHUP) and swaps it in
   * place: token reads, refreshes, sessions, rotation and the derived cookie/CSRF keys use the new keys from their
   * next call, and decrypted tokens held in memory are dropped. Logs one line naming the key ids (never a key).
   * @throws {ConfigError} when `WEBEX_AUTH_KEYS_FILE` is not set or the file is readable by others;
   * {@link VaultKeyError} when the file is malformed, lacks a key stored data is encrypted under, or holds a wrong
   * key. Either way the old ring stays and an error line is logged.
   */
  reloadKeys(): Promise<KeyReloadResult>;
  /**
   * A key id stored integrations or connections were met encrypted under in the last minute and that the ring
   * lacks (another process rotated to it); undefined when none. `/readyz` and the dashboard report it.
   */
  missingKeyId(): string | undefined;
  startKeepAlive(options?: KeepAliveOptions): void;
  stopKeepAlive(): void;
  sweepOnce(): Promise<SweepResult>;
  /** Reconciles every active connection with Webex once (reconcile.ts); `ran: false` when another instance is at it. */
  reconcile(): Promise<ReconcileResult>;
  readonly keySource: KeySource;
  /** Where the key ring is kept: the key file, or the keychain account its pointer file names. */
  readonly keyLocation: { source: KeySource; path?: string | undefined; account?: string | undefined };
  /** `postgres` or `sqlite`. */
  readonly storeKind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

/** Options of `openVault`. */
export interface OpenVaultOptions {
  fetch?: FetchLike;
  clock?: Clock;
  logger?: Logger;
  /** Identifies this process in leases (default: random). */
  instanceId?: string;
}

/** What {@link Vault.reloadKeys} loaded. */
export interface KeyReloadResult {
  /** The ring's key ids, the active (encrypting) one first. */
  keyIds: string[];
  /** The file read. */
  path: string;
}

/** Stable codes of {@link VaultError}. */
export type VaultErrorCode =
  | 'not_found'
  | 'needs_reauth'
  | 'upstream_unavailable'
  | 'refresh_failed'
  | 'invalid_request'
  | 'rate_limited'
  | 'conflict'
  | 'forbidden';

/** A vault operation failed in a way callers branch on; never carries a secret. */
export class VaultError extends WebexAuthError<VaultErrorCode> {
  override name = 'VaultError';
  constructor(
    code: VaultErrorCode,
    message: string,
    /** Seconds to wait before retrying (`upstream_unavailable`, `rate_limited`). */
    readonly retryAfter?: number,
    /** `needs_reauth`: why. */
    readonly reason?: NeedsReauthReason,
  ) {
    super('vault', code, message);
  }
}

/** The key ring cannot decrypt (missing or wrong key) or is malformed: the vault fails closed. */
export class VaultKeyError extends WebexAuthError<'vault_key'> {
  override name = 'VaultKeyError';
  constructor(
    message: string,
    /**
     * Set when stored data is encrypted under this key id and the ring lacks it (another process rotated to a key
     * this one has not loaded yet): a temporary state, cured by loading the new ring.
     */
    readonly keyId?: string,
  ) {
    super('vault', 'vault_key', message);
  }
}
