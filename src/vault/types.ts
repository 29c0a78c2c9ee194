/**
 * The public shapes of the token vault: stored integrations, connections (one integration + one Webex person),
 * broker API keys, and the {@link Vault} facade that the server, the CLI and the broker use.
 * No type here carries token material except {@link RevealedTokens} and {@link FreshToken}.
 */
import type { Logger } from 'pino';
import type { Clock, FetchLike, Integration, TokenSet } from '../oauth/types.js';

/** Where the vault's encryption key came from: `WEBEX_AUTH_KEYS`, the OS keychain, or a 0600 key file. */
export type KeySource = 'env' | 'keychain' | 'file';

/** A stored Webex integration, without its secret. */
export interface IntegrationRecord {
  id: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  apiBase: string;
  /** Epoch ms. */
  createdAt: number;
}

/** What `integrations.upsert` takes; the client secret is stored encrypted. */
export interface IntegrationInput {
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
export interface Connection {
  id: string;
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
}

/** What `connections.saveFromGrant` takes. */
export interface SaveGrantInput {
  integrationId: string;
  tokens: TokenSet;
  person: ConnectionPerson;
  requestedScopes: string[];
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
  /** Epoch ms. */
  expiresAt: number;
  scopes: string[];
  person: { id: string; email: string; displayName: string };
}

/** A broker API key as stored (the key itself only as a hash). */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The connections this key may read. */
  connectionIds: string[];
  /** The first characters of the key, for recognising it in lists (`wak_AbCd…`). */
  prefix: string;
  createdAt: number;
  lastUsedAt?: number | undefined;
}

/** Events the vault sends to `WEBHOOK_URL`. */
export type VaultEvent = 'connection.created' | 'connection.refreshed' | 'connection.needs_reauth';

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
  /** False when another instance held the sweep lease. */
  ran: boolean;
  refreshed: number;
  failed: number;
}

/** The token vault: integrations, connections, broker API keys, and the refresher. */
export interface Vault {
  integrations: {
    upsert(input: IntegrationInput): Promise<IntegrationRecord>;
    get(id: string): Promise<IntegrationRecord | undefined>;
    findByClientId(clientId: string, apiBase: string): Promise<IntegrationRecord | undefined>;
    list(): Promise<IntegrationRecord[]>;
  };
  /** The integration with its decrypted secret, for the OAuth calls. */
  getIntegrationWithSecret(id: string): Promise<(Integration & IntegrationRecord) | undefined>;
  connections: {
    /** Stores a grant; authorizing the same (integration, person) again updates the connection. */
    saveFromGrant(input: SaveGrantInput): Promise<Connection>;
    get(id: string): Promise<Connection | undefined>;
    list(): Promise<Connection[]>;
    /** True when a connection was deleted. */
    delete(id: string): Promise<boolean>;
    revealTokens(id: string): Promise<RevealedTokens | undefined>;
    /**
     * An access token valid for at least `minValiditySeconds` (default 60), refreshing first when needed.
     * @throws {VaultError} `not_found`, `needs_reauth`, `upstream_unavailable` (with `retryAfter`).
     */
    getFreshToken(id: string, minValiditySeconds?: number): Promise<FreshToken>;
    /** Refreshes now (single flight), whatever the remaining validity. */
    refresh(id: string): Promise<Connection>;
    markNeedsReauth(id: string, reason?: string): Promise<void>;
  };
  apiKeys: {
    create(input: { name: string; connectionIds: string[] }): Promise<{ key: string; record: ApiKeyRecord }>;
    verify(key: string): Promise<ApiKeyRecord | undefined>;
    list(): Promise<ApiKeyRecord[]>;
    /** True when a key was revoked. */
    revoke(id: string): Promise<boolean>;
  };
  /** Re-encrypts every secret under the active key, in batches, while serving. */
  rotateKeys(onProgress?: (p: RotationProgress) => void): Promise<RotationProgress>;
  startKeepAlive(options?: KeepAliveOptions): void;
  stopKeepAlive(): void;
  sweepOnce(): Promise<SweepResult>;
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

/** Stable codes of {@link VaultError}. */
export type VaultErrorCode =
  | 'not_found'
  | 'needs_reauth'
  | 'upstream_unavailable'
  | 'refresh_failed'
  | 'invalid_request'
  | 'conflict';

/** A vault operation failed in a way callers branch on; never carries a secret. */
export class VaultError extends Error {
  override name = 'VaultError';
  constructor(
    readonly code: VaultErrorCode,
    message: string,
    /** Seconds to wait before retrying (`upstream_unavailable`). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** The key ring cannot decrypt (missing or wrong key) or is malformed: the vault fails closed. */
export class VaultKeyError extends Error {
  override name = 'VaultKeyError';
  readonly code = 'vault_key' as const;
}
