/**
 * Building the Webex authorization URL (`GET {base}/authorize`) with a fresh state, PKCE S256 and, for OpenID
 * Connect, a nonce. The returned {@link PendingAuthorization} is kept until the callback.
 */
import { createHash, randomBytes } from 'node:crypto';
import { validateScopes, wantsOpenId } from './scopes.js';
import type { Clock, Integration, PendingAuthorization } from './types.js';

/** Options of {@link createAuthorizationRequest}. */
export interface AuthorizationRequestOptions {
  integration: Pick<Integration, 'clientId' | 'redirectUri' | 'apiBase'>;
  /** Scopes to request; each must be in the scope catalog (and registered on the integration, which Webex checks). */
  scopes: string[];
  /** `none`: never show UI (no session → `login_required`); `select_account`: show the login dialog. */
  prompt?: 'none' | 'select_account';
  /** An email address to prefill in the Webex login dialog. */
  loginHint?: string;
  /** PKCE with S256 (default true). With `false`, `pending.codeVerifier` is the empty string. */
  pkce?: boolean;
  clock?: Clock;
}

/** The URL to send the person's browser to, and what must be kept until the callback. */
export interface AuthorizationRequest {
  url: string;
  pending: PendingAuthorization;
}

/** Strips trailing slashes from a base URL so that `${base}/authorize` never has `//`. */
export function trimBase(apiBase: string): string {
  return apiBase.replace(/\/+$/, '');
}

/**
 * RFC 7636 S256 challenge. oauth4webapi's `calculatePKCECodeChallenge` is async (WebCrypto); this function must stay
 * synchronous (its signature is a published contract), so the one SHA-256 comes from node:crypto. A unit test
 * checks it gives the same result as oauth4webapi.
 */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

/**
 * Builds the authorization URL. Scopes are `%20`-separated as in Cisco's examples (a form encoder's `+` works too,
 * but `%20` is what Webex documents). Throws `ScopeError` for an unknown or empty scope list.
 */
export function createAuthorizationRequest(opts: AuthorizationRequestOptions): AuthorizationRequest {
  const scopes = validateScopes(opts.scopes);
  const now = (opts.clock ?? Date.now)();
  // 32 random bytes each (RFC 7636's recommended 256 bits for the verifier), base64url: unguessable and URL-safe, as
  // oauth4webapi's generateRandom* make them. One draw from node:crypto's CSPRNG for all of them: on Node 20
  // oauth4webapi's (WebCrypto's getRandomValues, then btoa over a char-code string) costs ~10 µs a value.
  const random = randomBytes(96);
  const token = (n: number) => random.toString('base64url', n * 32, n * 32 + 32);
  const state = token(0);
  const codeVerifier = opts.pkce === false ? '' : token(1);
  const nonce = wantsOpenId(scopes) ? token(2) : undefined;
  random.fill(0);

  const params: [string, string][] = [
    ['response_type', 'code'],
    ['client_id', opts.integration.clientId],
    ['redirect_uri', opts.integration.redirectUri],
    ['scope', scopes.join(' ')],
    ['state', state],
  ];
  if (codeVerifier) params.push(['code_challenge', pkceChallenge(codeVerifier)], ['code_challenge_method', 'S256']);
  if (nonce) params.push(['nonce', nonce]);
  if (opts.prompt) params.push(['prompt', opts.prompt]);
  if (opts.loginHint) params.push(['login_hint', opts.loginHint]);
  // encodeURIComponent gives `%20` for spaces (URLSearchParams would give `+`).
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

  const pending: PendingAuthorization = {
    state,
    codeVerifier,
    redirectUri: opts.integration.redirectUri,
    scopes,
    createdAt: now,
  };
  if (nonce) pending.nonce = nonce;
  return { url: `${trimBase(opts.integration.apiBase)}/authorize?${query}`, pending };
}
