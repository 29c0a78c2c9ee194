/**
 * The OAuth device grant (RFC 8628) as Webex runs it: `POST {base}/device/authorize`, then polling
 * `POST {base}/device/token` with HTTP Basic client authentication. Webex answers HTTP 428 while the person has not
 * approved yet. The device grant does not support OIDC scopes.
 */
import * as z from 'zod';
import { trimBase } from './authorize.js';
import { ScopeError, WebexOAuthError } from './errors.js';
import { oauthErrorFromResponse, postForm, trackingIdOf } from './http.js';
import { oidcScopesOf, validateScopes } from './scopes.js';
import { processTokenResponse } from './tokens.js';
import type { Clock, FetchLike, Integration, RequestOptions, TokenSet } from './types.js';

/** What the person needs to approve the device: the code and where to enter it. */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds the device code stays valid. */
  expiresIn: number;
  /** Seconds to wait between polls. */
  interval: number;
  /** The scopes requested (they stand in for `scope` if the token response omits it). */
  scopes: string[];
}

const seconds = z.preprocess(
  (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
  z.number().int().nonnegative(),
);

const deviceResponse = z.looseObject({
  device_code: z.string().min(1),
  user_code: z.string().min(1),
  verification_uri: z.string().url(),
  verification_uri_complete: z.string().url().optional(),
  expires_in: seconds,
  interval: seconds.optional(),
});

/** Starts a device authorization for `scopes` (no OIDC scopes: Webex does not support them on this grant). */
export async function startDeviceAuthorization(
  integration: Integration,
  scopes: string[],
  options: RequestOptions = {},
): Promise<DeviceAuthorization> {
  const requested = validateScopes(scopes);
  const oidc = oidcScopesOf(requested);
  if (oidc.length) throw new ScopeError(`The device grant does not support OIDC scopes (${oidc.join(', ')}).`);
  const response = await postForm(
    `${trimBase(integration.apiBase)}/device/authorize`,
    { client_id: integration.clientId, scope: requested.join(' ') },
    undefined,
    options,
  );
  if (!response.ok) throw await oauthErrorFromResponse(response);
  const json: unknown = await response.json().catch(() => undefined);
  const parsed = deviceResponse.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))].join(', ');
    throw new WebexOAuthError({
      code: 'invalid_response',
      status: response.status,
      description: `The device authorization response is missing or has an invalid ${fields}.`,
      trackingId: trackingIdOf(response.headers),
    });
  }
  const d = parsed.data;
  const result: DeviceAuthorization = {
    deviceCode: d.device_code,
    userCode: d.user_code,
    verificationUri: d.verification_uri,
    expiresIn: d.expires_in,
    interval: d.interval ?? 5,
    scopes: requested,
  };
  if (d.verification_uri_complete) result.verificationUriComplete = d.verification_uri_complete;
  return result;
}

/** One poll, reported to `onPoll` (e.g. for a spinner). */
export interface DevicePollEvent {
  attempt: number;
  /** The answer: `authorization_pending`, `slow_down`, or `rate_limited`. */
  outcome: string;
  /** Seconds until the next poll. */
  interval: number;
}

/** Options of {@link pollDeviceToken}. */
export interface PollDeviceTokenOptions {
  /** Seconds between polls, from {@link DeviceAuthorization.interval}. */
  interval: number;
  signal?: AbortSignal;
  clock?: Clock;
  fetch?: FetchLike;
  onPoll?: (event: DevicePollEvent) => void;
  /** Seconds the device code is valid; polling stops with `expired_token` after it (default: until Webex says so). */
  expiresIn?: number;
  /** Requested scopes, for a token response without `scope`. */
  requestedScopes?: string[];
  /** Waits `ms` milliseconds (injectable for tests); rejects when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Default sleep: a timer that an abort signal cancels. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls until the person approves (→ {@link TokenSet}) or the grant ends: `access_denied` and `expired_token` (and
 * any other error) throw {@link WebexOAuthError}. `authorization_pending` (Webex: HTTP 428) waits `interval`;
 * `slow_down` adds 5 s to it (RFC 8628 §3.5); 429 waits `Retry-After` when longer.
 */
export async function pollDeviceToken(
  integration: Integration,
  deviceCode: string,
  options: PollDeviceTokenOptions,
): Promise<TokenSet> {
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const deadline = options.expiresIn !== undefined ? clock() + options.expiresIn * 1000 : Number.POSITIVE_INFINITY;
  let interval = Math.max(1, options.interval);
  let wait = interval;
  for (let attempt = 1; ; attempt++) {
    await sleep(wait * 1000, options.signal);
    if (clock() >= deadline) {
      throw new WebexOAuthError({ code: 'expired_token', status: 400, description: 'The device code expired.' });
    }
    const response = await postForm(
      `${trimBase(integration.apiBase)}/device/token`,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: deviceCode,
        client_id: integration.clientId,
      },
      { integration, method: 'client_secret_basic' },
      options,
    );
    if (response.ok) {
      return processTokenResponse(response, { clock, requestedScopes: options.requestedScopes ?? [] });
    }
    const error = await oauthErrorFromResponse(response, clock());
    const pending = response.status === 428 || error.code === 'authorization_pending';
    if (error.code === 'slow_down') interval += 5;
    else if (!pending && error.code !== 'rate_limited') throw error;
    wait = Math.max(interval, error.code === 'rate_limited' ? (error.retryAfter ?? interval) : interval);
    const outcome = pending ? 'authorization_pending' : error.code;
    options.onPoll?.({ attempt, outcome, interval: wait });
  }
}
