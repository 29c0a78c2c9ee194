/**
 * Parsing the authorization callback (`redirect_uri?code=…&state=…` or `?error=…&state=…`): Webex's `error` first,
 * then the state check (constant-time), then the code (docs/webex-api.md "Authorization").
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { CallbackError, StateMismatchError, WebexOAuthError } from './errors.js';
import type { PendingAuthorization } from './types.js';

export { explainOAuthError, type OAuthErrorExplanation } from './explain.js';

/** The pending authorization itself, or a lookup by `state` (e.g. in a session or store). */
export type PendingLookup = PendingAuthorization | ((state: string) => PendingAuthorization | undefined);

/** A callback that passed every check: the code to exchange and the authorization it belongs to. */
export interface ParsedCallback {
  code: string;
  pending: PendingAuthorization;
}

function toParams(input: string | URL | URLSearchParams): URLSearchParams {
  if (input instanceof URLSearchParams) return input;
  if (input instanceof URL) return fromUrl(input);
  const s = input.trim();
  // A bare query string (`code=…&state=…` or `?code=…`) or a path (`/oauth?…`) is accepted as well as a full URL.
  if (!s.includes('?') && !s.includes('://')) return new URLSearchParams(s);
  let url: URL;
  try {
    url = new URL(s, 'http://callback.invalid');
  } catch (cause) {
    throw new CallbackError('The authorization callback URL cannot be parsed.', { cause });
  }
  return fromUrl(url);
}

/**
 * The query parameters, or the fragment's when the query has none of ours: Webex's prose says the answer comes in
 * the fragment while every example uses the query (docs/webex-api.md "Authorization"), so both are read.
 */
function fromUrl(url: URL): URLSearchParams {
  const ours = (p: URLSearchParams) => p.has('code') || p.has('state') || p.has('error');
  if (ours(url.searchParams) || url.hash.length < 2) return url.searchParams;
  const fragment = new URLSearchParams(url.hash.slice(1));
  return ours(fragment) ? fragment : url.searchParams;
}

/** The single value of `name`, `undefined` when absent; a repeated parameter is a {@link CallbackError}. */
function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new CallbackError(`The authorization callback repeats the "${name}" parameter.`);
  return all[0];
}

/** Constant-time string equality (hashing first makes the lengths equal, so length leaks nothing either). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/**
 * Checks a callback and returns the code with its pending authorization.
 *
 * - `error=` (`access_denied`, `invalid_scope`, `server_error`, `login_required`, …) → {@link WebexOAuthError} with
 *   that code and **status 400** (the person's browser brought an OAuth error; it is not a network failure, so
 *   `retryable` is false: retrying means sending the person through authorization again).
 * - a missing or repeated `code`/`state` → {@link CallbackError};
 * - a `state` that matches no pending authorization → {@link StateMismatchError}.
 */
export function parseCallback(callbackUrl: string | URL | URLSearchParams, pending: PendingLookup): ParsedCallback {
  const params = toParams(callbackUrl);
  const error = single(params, 'error');
  if (error !== undefined) {
    const description = single(params, 'error_description');
    throw new WebexOAuthError({
      code: error.slice(0, 64),
      description: description?.slice(0, 300),
      status: 400,
      message: `Webex refused the authorization: ${error.slice(0, 64)}`,
    });
  }
  const state = single(params, 'state');
  const code = single(params, 'code');
  if (state === undefined || state === '') throw new CallbackError('The authorization callback has no "state".');
  const candidate = typeof pending === 'function' ? pending(state) : pending;
  if (!candidate || !constantTimeEqual(candidate.state, state)) {
    throw new StateMismatchError('The authorization callback does not belong to an authorization started here.');
  }
  if (code === undefined || code === '') throw new CallbackError('The authorization callback has no "code".');
  return { code, pending: candidate };
}
