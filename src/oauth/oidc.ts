/**
 * OpenID Connect ("Login with Webex"): discovery, id_token verification, userinfo.
 *
 * JOSE comes from `jose`. The JWKS is fetched here (with the injected fetch) and handed to `createLocalJWKSet`,
 * because `createRemoteJWKSet` cannot use an injected fetch conveniently. Webex's sample id_tokens carry no `kid`,
 * so when several keys could match, each is tried in turn.
 */
import * as jose from 'jose';
import * as z from 'zod';
import { trimBase } from './authorize.js';
import { IdTokenError, WebexOAuthError } from './errors.js';
import { oauthErrorFromResponse, send, trackingIdOf } from './http.js';
import type { Clock, FetchLike, RequestOptions } from './types.js';

const discoverySchema = z.looseObject({
  issuer: z.string().url(),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
  jwks_uri: z.string().url(),
  userinfo_endpoint: z.string().url().optional(),
  scopes_supported: z.array(z.string()).optional(),
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
});

/** The OIDC discovery document (the fields we use are checked; the rest pass through). */
export type DiscoveryDocument = z.infer<typeof discoverySchema>;

async function readJson(response: Response, what: string): Promise<unknown> {
  if (!response.ok) throw await oauthErrorFromResponse(response);
  try {
    return await response.json();
  } catch {
    throw new WebexOAuthError({
      code: 'invalid_response',
      status: response.status,
      description: `The ${what} is not JSON.`,
      trackingId: trackingIdOf(response.headers),
    });
  }
}

function checked<T>(schema: z.ZodType<T>, value: unknown, what: string, response: Response): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields = [...new Set(r.error.issues.map((i) => i.path.join('.') || '(body)'))].join(', ');
  throw new WebexOAuthError({
    code: 'invalid_response',
    status: response.status,
    description: `The ${what} is missing or has an invalid ${fields}.`,
    trackingId: trackingIdOf(response.headers),
  });
}

/**
 * Fetches `{apiBase}/.well-known/openid-configuration` — the full URL, because Webex's `issuer` is an idbroker URL
 * that differs from the API base (so issuer-equals-URL discovery would fail, docs/webex-api.md "OpenID Connect").
 */
export async function discover(apiBase: string, options: RequestOptions = {}): Promise<DiscoveryDocument> {
  const response = await send(options.fetch, `${trimBase(apiBase)}/.well-known/openid-configuration`, {
    headers: { accept: 'application/json' },
    signal: options.signal ?? null,
  });
  return checked(discoverySchema, await readJson(response, 'discovery document'), 'discovery document', response);
}

/**
 * Issuers Webex is documented or observed to put in `iss` (docs/webex-api.md "OpenID Connect"). They are cluster-specific, so pass
 * the one your discovery document names, or this list when discovery and id_token disagree.
 */
export const KNOWN_WEBEX_ISSUERS: readonly string[] = [
  'https://idbroker-b-us.webex.com/idb',
  'https://idbroker.webex.com/idb',
  'https://idbroker-eu.webex.com/idb',
  'https://idbroker-ca.webex.com/idb',
];

/** Verified id_token claims (OIDC standard names; Webex puts the person's UUID in `sub`). */
export interface IdTokenClaims extends jose.JWTPayload {
  sub: string;
  iss: string;
  exp: number;
  iat: number;
  nonce?: string;
  auth_time?: number;
  email?: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
}

/** What {@link verifyIdToken} checks the id_token against. */
export interface VerifyIdTokenOptions {
  /** The integration's client id: must be the `aud`. */
  clientId: string;
  /** The nonce of the authorization request; when given, the claim must equal it. */
  nonce?: string;
  /** Expected `iss` (or several). Configurable because Webex issuers are cluster-specific. */
  issuer: string | string[];
  /** Where the signing keys are, usually discovery's `jwks_uri` (`{base}/verification`). */
  jwksUri: string;
  /** A JWKS already fetched (e.g. cached); when given, `jwksUri` is not fetched. */
  jwks?: jose.JSONWebKeySet;
  clock?: Clock;
  fetch?: FetchLike;
  /** Allowed clock skew in seconds (default 60). */
  clockToleranceSeconds?: number;
  signal?: AbortSignal;
}

const jwksSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string() })) });

/** Fetches a JWKS document and checks its shape. */
export async function fetchJwks(jwksUri: string, options: RequestOptions = {}): Promise<jose.JSONWebKeySet> {
  const response = await send(options.fetch, jwksUri, {
    headers: { accept: 'application/json' },
    signal: options.signal ?? null,
  });
  return checked(jwksSchema, await readJson(response, 'JWKS'), 'JWKS', response) as jose.JSONWebKeySet;
}

function idTokenError(e: unknown): IdTokenError {
  if (e instanceof IdTokenError) return e;
  const what: Record<string, string> = {
    ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the signature does not verify',
    ERR_JWKS_NO_MATCHING_KEY: 'no key in the JWKS matches its header',
    ERR_JWT_EXPIRED: 'it has expired',
    ERR_JWS_INVALID: 'it is not a well-formed JWS',
    ERR_JWT_INVALID: 'it is not a well-formed JWT',
    ERR_JOSE_ALG_NOT_ALLOWED: 'its algorithm is not RS256',
  };
  const code = (e as { code?: string }).code ?? '';
  const claim = (e as { claim?: string }).claim;
  let reason = what[code];
  if (!reason && code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    reason =
      claim === 'iss'
        ? 'the issuer is not the expected one'
        : claim === 'aud'
          ? 'the audience is not this integration'
          : `the "${claim}" claim is invalid`;
  }
  return new IdTokenError(`The id_token is invalid: ${reason ?? 'it cannot be verified'}.`, { cause: e });
}

/** Verifies against each candidate key in turn when the header has no `kid` and several keys could match. */
async function verifyWithKeySet(
  idToken: string,
  keySet: ReturnType<typeof jose.createLocalJWKSet>,
  opts: jose.JWTVerifyOptions,
): Promise<jose.JWTPayload> {
  try {
    return (await jose.jwtVerify(idToken, keySet, opts)).payload;
  } catch (e) {
    if (!(e instanceof jose.errors.JWKSMultipleMatchingKeys)) throw e;
    let last: unknown = e;
    for await (const key of e as unknown as AsyncIterable<jose.CryptoKey>) {
      try {
        return (await jose.jwtVerify(idToken, key, opts)).payload;
      } catch (err) {
        last = err;
        if (!(err instanceof jose.errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw last;
  }
}

/**
 * Verifies a Webex id_token: RS256 signature against the JWKS, `iss`, `aud` = client id, `exp`/`iat` against the
 * clock, and `nonce`. Throws {@link IdTokenError} saying which check failed; network problems fetching the JWKS are
 * {@link WebexOAuthError}s.
 */
export async function verifyIdToken(idToken: string, options: VerifyIdTokenOptions): Promise<IdTokenClaims> {
  const jwks = options.jwks ?? (await fetchJwks(options.jwksUri, options));
  const now = (options.clock ?? Date.now)();
  let payload: jose.JWTPayload;
  try {
    payload = await verifyWithKeySet(idToken, jose.createLocalJWKSet(jwks), {
      algorithms: ['RS256'],
      issuer: options.issuer,
      audience: options.clientId,
      currentDate: new Date(now),
      clockTolerance: options.clockToleranceSeconds ?? 60,
      requiredClaims: ['sub', 'iat', 'exp'],
    });
  } catch (e) {
    throw idTokenError(e);
  }
  if (options.nonce !== undefined && payload.nonce !== options.nonce) {
    throw new IdTokenError('The id_token is invalid: its nonce does not match the authorization request.');
  }
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== options.clientId) {
    throw new IdTokenError('The id_token is invalid: it has several audiences and azp is not this integration.');
  }
  return payload as IdTokenClaims;
}

const userInfoSchema = z.looseObject({
  sub: z.string().min(1),
  email: z.string().optional(),
  // Webex's userinfo example has the string "true"; id_tokens have a boolean. Normalised to a boolean.
  email_verified: z
    .union([z.boolean(), z.enum(['true', 'false'])])
    .transform((v) => v === true || v === 'true')
    .optional(),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  phone: z.string().optional(),
});

/** Claims from `{base}/userinfo` for the granted OIDC scopes; `email_verified` normalised to a boolean. */
export type UserInfo = z.infer<typeof userInfoSchema>;

/** Fetches `{apiBase}/userinfo` with the access token. A 401 is a {@link WebexOAuthError} `invalid_token`. */
export async function fetchUserInfo(
  apiBase: string,
  accessToken: string,
  options: RequestOptions = {},
): Promise<UserInfo> {
  const response = await send(options.fetch, `${trimBase(apiBase)}/userinfo`, {
    headers: { accept: 'application/json', authorization: `Bearer ${accessToken}` },
    signal: options.signal ?? null,
  });
  if (response.status === 401) {
    const err = await oauthErrorFromResponse(response);
    throw new WebexOAuthError({
      code: 'invalid_token',
      status: 401,
      description: err.description,
      trackingId: err.trackingId,
    });
  }
  return checked(userInfoSchema, await readJson(response, 'userinfo response'), 'userinfo response', response);
}

/** Options of {@link verifyTokenSetIdToken}. */
export interface VerifyTokenSetOptions extends RequestOptions {
  /** Expected issuer(s); default: the discovery document's `issuer` (configure when Webex's cluster differs). */
  issuer?: string | string[];
  /** A discovery document already fetched; default: {@link discover} on the integration's base. */
  discovery?: DiscoveryDocument;
}

/**
 * After a code exchange that asked for `openid`: discovers (unless given), then verifies the token set's id_token
 * against the integration's client id and the pending authorization's nonce. A missing id_token is an
 * {@link IdTokenError} when a nonce was sent.
 */
export async function verifyTokenSetIdToken(
  tokens: { idToken?: string | undefined },
  integration: { clientId: string; apiBase: string },
  pending: { nonce?: string | undefined },
  options: VerifyTokenSetOptions = {},
): Promise<IdTokenClaims> {
  if (!tokens.idToken) throw new IdTokenError('Webex returned no id_token although openid was requested.');
  const discovery = options.discovery ?? (await discover(integration.apiBase, options));
  const verify: VerifyIdTokenOptions = {
    clientId: integration.clientId,
    issuer: options.issuer ?? discovery.issuer,
    jwksUri: discovery.jwks_uri,
  };
  if (pending.nonce !== undefined) verify.nonce = pending.nonce;
  if (options.clock) verify.clock = options.clock;
  if (options.fetch) verify.fetch = options.fetch;
  if (options.signal) verify.signal = options.signal;
  return verifyIdToken(tokens.idToken, verify);
}
