/**
 * The one place where Webex OAuth HTTP quirks are normalised: form POSTs with client authentication, the two
 * error-body shapes (RFC `{error, error_description, trackingID}` and the REST envelope
 * `{message, errors:[{description}], trackingId}`), `Retry-After`, `TrackingID`, and network failures.
 */
import { WebexOAuthError, type WebexOAuthErrorCode } from './errors.js';
import { parseRetryAfter, toSeconds } from './retry-after.js';
import type { ClientAuthMethod, FetchLike, Integration, RequestOptions } from './types.js';

/**
 * `Retry-After` in whole seconds (delta-seconds or an HTTP date), or `undefined`.
 * Kept for the library's callers; the reading itself is {@link parseRetryAfter}'s.
 */
export function retryAfterSeconds(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = parseRetryAfter(headers.get('retry-after'), now);
  return ms === undefined ? undefined : toSeconds(ms);
}

/**
 * Header `name` of `response` as `response.headers.get` gives it. The server's transport (src/transport/) answers
 * without having made the `Headers` object, and reads one header without making it (`receivedHeader`); any other
 * `Response` is read through its `headers`.
 */
export function responseHeader(response: Response, name: string): string | null {
  const received = (response as { receivedHeader?: unknown }).receivedHeader;
  return typeof received === 'function'
    ? (received as (n: string) => string | null).call(response, name)
    : response.headers.get(name);
}

/** The `TrackingID` header (Webex puts one on every response). */
export function trackingIdOf(headers: Headers): string | undefined {
  return headers.get('trackingid') ?? undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The code for an error answer that carries no OAuth `error` field, by status. */
function codeForStatus(status: number): WebexOAuthErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 401) return 'invalid_client';
  if (status === 503) return 'temporarily_unavailable';
  if (status >= 500) return 'server_error';
  if (status === 400) return 'invalid_request';
  return 'invalid_response';
}

/**
 * Turns a non-2xx answer from a Webex OAuth endpoint into a {@link WebexOAuthError}, whichever of the two body
 * shapes (or HTML, or nothing) it has. 429 is always `rate_limited` with `retryAfter`.
 */
export async function oauthErrorFromResponse(response: Response, now?: number): Promise<WebexOAuthError> {
  const text = await response.text().catch(() => '');
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: an HTML gateway page or an empty body; the status decides the code
  }
  const firstError = Array.isArray(body.errors) ? (body.errors[0] as Record<string, unknown> | undefined) : undefined;
  const oauthCode = str(body.error);
  const description = str(body.error_description) ?? str(firstError?.description) ?? str(body.message);
  const code: WebexOAuthErrorCode =
    response.status === 429 ? 'rate_limited' : (oauthCode?.slice(0, 64) ?? codeForStatus(response.status));
  return new WebexOAuthError({
    code,
    description: description?.slice(0, 500),
    status: response.status,
    trackingId: trackingIdOf(response.headers) ?? str(body.trackingID) ?? str(body.trackingId),
    retryAfter: retryAfterSeconds(response.headers, now),
  });
}

/** HTTP Basic credentials as RFC 6749 §2.3.1 builds them (form-encode each part, then base64). */
export function basicAuth(clientId: string, clientSecret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

/**
 * POSTs a form to a Webex OAuth endpoint with the integration's client authentication (body fields by default, or
 * HTTP Basic). A failure to get any answer becomes `network_error` with status 0; an abort is rethrown as is.
 */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  auth: { integration: Integration; method: ClientAuthMethod } | undefined,
  options: RequestOptions = {},
): Promise<Response> {
  const body = new URLSearchParams(fields);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (auth?.method === 'client_secret_basic') {
    headers.authorization = basicAuth(auth.integration.clientId, auth.integration.clientSecret);
  } else if (auth) {
    body.set('client_id', auth.integration.clientId);
    body.set('client_secret', auth.integration.clientSecret);
  }
  return send(options.fetch, url, { method: 'POST', headers, body, signal: options.signal ?? null });
}

/** Calls fetch, mapping a network failure to `network_error` (status 0) and rethrowing aborts. */
export async function send(fetchImpl: FetchLike | undefined, url: string, init: RequestInit): Promise<Response> {
  const f = fetchImpl ?? globalThis.fetch;
  try {
    return await f(url, { ...init, redirect: 'manual' });
  } catch (cause) {
    if (init.signal?.aborted) throw init.signal.reason ?? cause;
    throw new WebexOAuthError({
      code: 'network_error',
      status: 0,
      description: `No answer from ${new URL(url).host}`,
      cause,
    });
  }
}
