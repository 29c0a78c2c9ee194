/**
 * The data shapes of the Webex OAuth client. Everything here is already validated: values that came from the
 * network are checked once, at the boundary (see tokens.ts), and trusted inside.
 */

/** An injectable fetch (defaults to the global one). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
/** An injectable clock returning epoch milliseconds (defaults to `Date.now`). */
export type Clock = () => number;

/** A Webex integration as registered on developer.webex.com (or on the emulator). */
export interface Integration {
  clientId: string;
  clientSecret: string;
  /** One of the integration's registered redirect URIs, matched exactly by Webex. */
  redirectUri: string;
  /** REST + OAuth base, e.g. `https://webexapis.com/v1`, FedRAMP, or an emulator's `http://127.0.0.1:P/v1`. */
  apiBase: string;
}

/** How the client authenticates at the token endpoint: body fields (default) or HTTP Basic. */
export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic';

/** Common options of every call that touches the network. */
export interface RequestOptions {
  fetch?: FetchLike;
  clock?: Clock;
  signal?: AbortSignal;
}

/** A Webex token pair, with absolute expiry times computed once at receipt. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  /** `"Bearer"`; older Webex responses omit `token_type` and it is assumed. */
  tokenType: 'Bearer';
  /** Access-token expiry, epoch ms. */
  expiresAt: number;
  /** Refresh-token expiry, epoch ms. */
  refreshExpiresAt: number;
  /** Granted scopes; when Webex omits `scope` (older responses), the requested scopes, and `scopeReported` is false. */
  scopes: string[];
  /** Whether Webex reported the granted scopes itself. */
  scopeReported: boolean;
  /** The raw id_token, present when `openid` was requested. */
  idToken?: string;
  /** The TrackingID header of the token response, for support tickets. */
  trackingId?: string;
  /** When the token set was received, epoch ms. */
  receivedAt: number;
}

/** Requested vs granted scopes. */
export interface ScopeDiff {
  granted: string[];
  /** Requested but not granted. */
  missing: string[];
  /** Granted without being requested. */
  extra: string[];
}

/** The state of one authorization request, kept server-side (or in memory by the CLI) until the callback. */
export interface PendingAuthorization {
  state: string;
  codeVerifier: string;
  /** Present when `openid` was requested. */
  nonce?: string;
  redirectUri: string;
  scopes: string[];
  /** Epoch ms. */
  createdAt: number;
}
