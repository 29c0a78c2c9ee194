/**
 * The few error classes of the OAuth client, each with a stable machine-readable `code` and the webex-auth error
 * brand (src/errors.ts `isWebexAuthError`): family `oauth` for what Webex's OAuth endpoints answer, `authorization`
 * for our own checks around an authorization. This module is a lazily loaded part of the `webex-auth token` bundle,
 * which must share no module with it (scripts/build.mjs), so it sets the brand's registered symbol itself and imports
 * nothing. Messages never contain secrets (codes, tokens, client secrets).
 */

/** The webex-auth error brand's key (src/errors.ts), registered process-wide. */
const BRAND: unique symbol = Symbol.for('webex-auth.error') as never;

/** Codes of {@link WebexOAuthError}: Webex's OAuth `error` values plus a few of ours. */
export type WebexOAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'login_required'
  | 'tokenlimit_reached'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  /** HTTP 429 from Webex. */
  | 'rate_limited'
  /** The network failed or the request timed out. */
  | 'network_error'
  /** Webex answered something that is not a valid token response. */
  | 'invalid_response'
  | (string & {});

/** An error answered by the Webex OAuth endpoints (either of Webex's two error-body shapes), or on the way to them. */
export class WebexOAuthError extends Error {
  override name = 'WebexOAuthError';
  readonly [BRAND] = 'oauth' as const;
  readonly code: WebexOAuthErrorCode;
  /** Webex's `error_description` or envelope `message`, if any. */
  readonly description: string | undefined;
  /** HTTP status, 0 for network errors. */
  readonly status: number;
  readonly trackingId: string | undefined;
  /** Seconds to wait, from `Retry-After`, for 429/503. */
  readonly retryAfter: number | undefined;

  constructor(init: {
    code: WebexOAuthErrorCode;
    description?: string | undefined;
    status: number;
    trackingId?: string | undefined;
    retryAfter?: number | undefined;
    message?: string;
    cause?: unknown;
  }) {
    super(init.message ?? `Webex OAuth error ${init.code}${init.description ? `: ${init.description}` : ''}`, {
      cause: init.cause,
    });
    this.code = init.code;
    this.description = init.description;
    this.status = init.status;
    this.trackingId = init.trackingId;
    this.retryAfter = init.retryAfter;
  }

  /**
   * True when the refresh token (or code) is dead and a person must authorize again:
   * Webex answers 400 `invalid_request` for an expired/revoked refresh token, RFC servers `invalid_grant`.
   */
  get needsReauth(): boolean {
    return this.status === 400 && (this.code === 'invalid_grant' || this.code === 'invalid_request');
  }

  /** True when retrying later with the same credentials may succeed (429, 5xx, network). */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** The callback's `state` does not match any pending authorization (forged, replayed, expired or from another browser). */
export class StateMismatchError extends Error {
  override name = 'StateMismatchError';
  readonly [BRAND] = 'authorization' as const;
  readonly code = 'state_mismatch' as const;
}

/** The authorization callback is malformed: no code, a repeated parameter, or an unparseable URL. */
export class CallbackError extends Error {
  override name = 'CallbackError';
  readonly [BRAND] = 'authorization' as const;
  readonly code = 'invalid_callback' as const;
}

/** An id_token failed verification (signature, issuer, audience, nonce, expiry). */
export class IdTokenError extends Error {
  override name = 'IdTokenError';
  readonly [BRAND] = 'authorization' as const;
  readonly code = 'invalid_id_token' as const;
}

/** A scope is not in the Webex scope catalog, or the scope list is malformed. */
export class ScopeError extends Error {
  override name = 'ScopeError';
  readonly [BRAND] = 'authorization' as const;
  readonly code = 'invalid_scope_request' as const;
}
