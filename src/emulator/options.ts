/** Emulator options (the `webex-auth emulator` flags and the knobs of docs/webex-api.md "Emulator"). */
import type { FastifyBaseLogger } from 'fastify';
import type { SeedInput } from './seed.js';

/** Everything that shapes one emulator instance; every field is optional and defaults to Webex's behaviour. */
export interface EmulatorOptions {
  /** Seed data (validated with `validateSeed`); default {@link DEMO_SEED}. */
  seed?: SeedInput;
  /** Skip the consent page: authorize as if this person accepted; device codes are approved on first poll. */
  autoConsent?: string;
  /** Access-token lifetime in seconds (default 1209599). */
  accessTtl?: number;
  /** Refresh-token lifetime in seconds (default 7775999). */
  refreshTtl?: number;
  /** Authorization-code lifetime in seconds (default 300). */
  codeTtl?: number;
  /** Access-token lifetime of device-grant tokens (default 64799). */
  deviceAccessTtl?: number;
  /** Return a new refresh token on every refresh; the old one stops working after `rotationGraceSeconds`. */
  rotateRefreshTokens?: boolean;
  /** Seconds a rotated-out refresh token keeps working (default 0). */
  rotationGraceSeconds?: number;
  /** Drop `token_type` and `scope` from token responses (older Webex responses). */
  legacyTokenResponse?: boolean;
  /** Live access tokens per person across all clients (default 750). */
  tokenCap?: number;
  /** The `error` of a bad/expired/revoked refresh token (default `invalid_request`). */
  refreshError?: 'invalid_request' | 'invalid_grant';
  /** Issuer in discovery and id_tokens (default `https://idbroker-b-us.webex.com/idb`). */
  issuer?: string;
  /** A different `iss` in id_tokens than discovery's `issuer` (reproduces the observed mismatch). */
  idTokenIss?: string;
  /** id_token claims: only the openid set (default) or also the requested email/profile claims. */
  idTokenClaims?: 'openid' | 'requested';
  /** Sign id_tokens without a `kid` header, as Cisco's samples show. */
  noKid?: boolean;
  /** Number of RSA keys in the JWKS (default 1; the first signs). */
  jwksKeys?: number;
  /** `token_endpoint_auth_methods_supported` in discovery (default `["client_secret_basic"]`). */
  discoveryAuthMethods?: string[];
  /** Renew the refresh token's lifetime on each successful refresh (default true). */
  refreshRenew?: boolean;
  /** `max` above an endpoint's limit: clamp (default) or reject with 400. */
  maxMode?: 'clamp' | 'reject';
  /** Initial clock offset in seconds. */
  clockOffset?: number;
  /** Milliseconds before a revocation takes effect (default 0: immediately); deletions through `/v1/authorizations` too. */
  revocationLagMs?: number;
  /** Seconds within which a second refresh of the same grant answers the same access token and expiry (default 0: off). */
  refreshUnchangedWithin?: number;
  /** Largest file a multipart `POST /v1/messages` takes, in bytes (default 100 MiB, Webex's limit). */
  maxUploadBytes?: number;
  /** Webhooks: retries after a failed first delivery attempt (default 3; 0 = none). */
  webhookRetries?: number;
  /** Webhooks: the first retry waits this many ms, each next one twice as long (default 1000). */
  webhookRetryBaseMs?: number;
  /** Webhooks: turn `inactive` after this many consecutive failed deliveries, all retries spent (default 5). */
  webhookInactiveAfter?: number;
  /** Webhooks: ms to wait for the receiver's answer before an attempt counts as failed (default 10000). */
  webhookTimeoutMs?: number;
  /** A pino-compatible logger; default silent. */
  logger?: FastifyBaseLogger | false;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  autoConsent: string | undefined;
  accessTtl: number;
  refreshTtl: number;
  codeTtl: number;
  deviceAccessTtl: number;
  rotateRefreshTokens: boolean;
  rotationGraceSeconds: number;
  legacyTokenResponse: boolean;
  tokenCap: number;
  refreshError: 'invalid_request' | 'invalid_grant';
  issuer: string;
  idTokenIss: string;
  idTokenClaims: 'openid' | 'requested';
  noKid: boolean;
  jwksKeys: number;
  discoveryAuthMethods: string[];
  refreshRenew: boolean;
  maxMode: 'clamp' | 'reject';
  clockOffset: number;
  revocationLagMs: number;
  refreshUnchangedWithin: number;
  maxUploadBytes: number;
  webhookRetries: number;
  webhookRetryBaseMs: number;
  webhookInactiveAfter: number;
  webhookTimeoutMs: number;
}

/** The documented Webex issuer (docs/webex-api.md "OpenID Connect"). */
export const DEFAULT_ISSUER = 'https://idbroker-b-us.webex.com/idb';

/** Applies the defaults of docs/webex-api.md (Webex's behaviour; the emulator's choices where Webex publishes none). */
export function resolveOptions(o: EmulatorOptions): ResolvedOptions {
  const issuer = o.issuer ?? DEFAULT_ISSUER;
  return {
    autoConsent: o.autoConsent,
    accessTtl: o.accessTtl ?? 1209599,
    refreshTtl: o.refreshTtl ?? 7775999,
    codeTtl: o.codeTtl ?? 300,
    deviceAccessTtl: o.deviceAccessTtl ?? 64799,
    rotateRefreshTokens: o.rotateRefreshTokens ?? false,
    rotationGraceSeconds: o.rotationGraceSeconds ?? 0,
    legacyTokenResponse: o.legacyTokenResponse ?? false,
    tokenCap: o.tokenCap ?? 750,
    refreshError: o.refreshError ?? 'invalid_request',
    issuer,
    idTokenIss: o.idTokenIss ?? issuer,
    idTokenClaims: o.idTokenClaims ?? 'openid',
    noKid: o.noKid ?? false,
    jwksKeys: Math.max(1, o.jwksKeys ?? 1),
    discoveryAuthMethods: o.discoveryAuthMethods ?? ['client_secret_basic'],
    refreshRenew: o.refreshRenew ?? true,
    maxMode: o.maxMode ?? 'clamp',
    clockOffset: o.clockOffset ?? 0,
    revocationLagMs: o.revocationLagMs ?? 0,
    refreshUnchangedWithin: Math.max(0, o.refreshUnchangedWithin ?? 0),
    maxUploadBytes: Math.max(1, Math.floor(o.maxUploadBytes ?? 100 * 1024 * 1024)),
    webhookRetries: Math.max(0, Math.floor(o.webhookRetries ?? 3)),
    webhookRetryBaseMs: Math.max(0, o.webhookRetryBaseMs ?? 1000),
    webhookInactiveAfter: Math.max(1, Math.floor(o.webhookInactiveAfter ?? 5)),
    webhookTimeoutMs: Math.max(1, o.webhookTimeoutMs ?? 10_000),
  };
}
