/**
 * Code exchange and refresh at `POST {base}/access_token`, and the one parser of Webex token responses.
 *
 * Why not oauth4webapi's `processAuthorizationCodeResponse`/`processRefreshTokenResponse`: they (rightly, for RFC
 * servers) reject a response without `token_type` and only understand the RFC error shape, while Webex sends
 * legacy responses without `token_type`/`scope` and a second, REST-envelope error shape. Those quirks are normalised
 * here by hand, in one place. PKCE and the random values are in authorize.ts (a test checks its S256 challenge against
 * oauth4webapi's).
 */
import * as z from 'zod';
import { trimBase } from './authorize.js';
import { WebexOAuthError } from './errors.js';
import { oauthErrorFromResponse, postForm, responseHeader } from './http.js';
import { parseScopes } from './scopes.js';
import type { ClientAuthMethod, Clock, Integration, PendingAuthorization, RequestOptions, TokenSet } from './types.js';

/** Options of the token calls: network injection plus how the client authenticates (body fields by default). */
export type TokenRequestOptions = RequestOptions & { clientAuth?: ClientAuthMethod };

/** Seconds as Webex sends them: a number; a numeric string is tolerated. */
const seconds = z.preprocess(
  (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
  z.number().int().nonnegative(),
);

const tokenResponse = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: seconds,
  refresh_token_expires_in: seconds,
  token_type: z
    .string()
    .refine((t) => t.toLowerCase() === 'bearer', 'must be "Bearer"')
    .optional(),
  scope: z.string().optional(),
  id_token: z.string().min(1).optional(),
});

/** Context of {@link processTokenResponse}. */
export interface TokenResponseContext {
  clock?: Clock;
  /** The scopes asked for; they stand in for `scope` when Webex omits it (legacy responses). */
  requestedScopes: string[];
  /**
   * On a refresh, the refresh token that was sent: used when the response has no `refresh_token` (the JS SDK does
   * the same; rotation is not observed, docs/webex-api.md "Tokens"). Without it a missing `refresh_token` is `invalid_response`.
   */
  previousRefreshToken?: string;
}

/**
 * Validates a token-endpoint `Response` into a {@link TokenSet} (absolute expiry times from the clock), or throws a
 * {@link WebexOAuthError}: Webex's own error (either body shape), `rate_limited` for 429, or `invalid_response`
 * naming the missing/bad field (never its value).
 */
export async function processTokenResponse(response: Response, ctx: TokenResponseContext): Promise<TokenSet> {
  const now = (ctx.clock ?? Date.now)();
  if (!response.ok) throw await oauthErrorFromResponse(response, now);
  const trackingId = responseHeader(response, 'trackingid') ?? undefined;
  const invalid = (description: string) =>
    new WebexOAuthError({ code: 'invalid_response', status: response.status, description, trackingId });
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw invalid('The token response is not JSON.');
  }
  if (json && typeof json === 'object' && typeof (json as { error?: unknown }).error === 'string') {
    // An OAuth error inside a 2xx answer: treat it as the error it names.
    const body = json as Record<string, unknown>;
    throw new WebexOAuthError({
      code: String(body.error).slice(0, 64),
      description: typeof body.error_description === 'string' ? body.error_description.slice(0, 500) : undefined,
      status: 400,
      trackingId: trackingId ?? (typeof body.trackingID === 'string' ? body.trackingID : undefined),
    });
  }
  if (json && typeof json === 'object' && !('refresh_token' in json) && ctx.previousRefreshToken) {
    json = { ...json, refresh_token: ctx.previousRefreshToken };
  }
  const parsed = tokenResponse.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))].join(', ');
    throw invalid(`The token response is missing or has an invalid ${fields}.`);
  }
  const t = parsed.data;
  const set: TokenSet = {
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    tokenType: 'Bearer',
    expiresAt: now + t.expires_in * 1000,
    refreshExpiresAt: now + t.refresh_token_expires_in * 1000,
    scopes: t.scope !== undefined ? parseScopes(t.scope) : [...ctx.requestedScopes],
    scopeReported: t.scope !== undefined,
    receivedAt: now,
  };
  if (t.id_token) set.idToken = t.id_token;
  if (trackingId) set.trackingId = trackingId;
  return set;
}

/**
 * Exchanges an authorization code (from {@link parseCallback}) for a token pair: form-encoded, with the same
 * `redirect_uri` as the authorize request and the PKCE `code_verifier`.
 */
export async function exchangeCode(
  integration: Integration,
  args: { code: string; pending: PendingAuthorization },
  options: TokenRequestOptions = {},
): Promise<TokenSet> {
  const fields: Record<string, string> = {
    grant_type: 'authorization_code',
    code: args.code,
    redirect_uri: args.pending.redirectUri,
  };
  if (args.pending.codeVerifier) fields.code_verifier = args.pending.codeVerifier;
  const response = await postForm(
    `${trimBase(integration.apiBase)}/access_token`,
    fields,
    { integration, method: options.clientAuth ?? 'client_secret_post' },
    options,
  );
  return processTokenResponse(response, { clock: options.clock, requestedScopes: args.pending.scopes });
}

/**
 * Refreshes an access token. Webex keeps the old access token alive, so refresh only when needed. The returned
 * `refreshToken` must be stored whatever it is (the same one when Webex sends none). `requestedScopes` stand in for
 * the granted scopes when Webex omits `scope`.
 */
export async function refreshAccessToken(
  integration: Integration,
  refreshToken: string,
  options: TokenRequestOptions & { requestedScopes?: string[] } = {},
): Promise<TokenSet> {
  const response = await postForm(
    `${trimBase(integration.apiBase)}/access_token`,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    { integration, method: options.clientAuth ?? 'client_secret_post' },
    options,
  );
  return processTokenResponse(response, {
    clock: options.clock,
    requestedScopes: options.requestedScopes ?? [],
    previousRefreshToken: refreshToken,
  });
}
