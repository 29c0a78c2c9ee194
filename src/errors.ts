/**
 * The one error brand of webex-auth: every error callers branch on carries a stable machine-readable `code` and a
 * brand naming its *family* (whose error it is), and {@link isWebexAuthError} recognises it by that brand, never by
 * class identity nor by `name`. Codes are unique within a family only (the OAuth client's `rate_limited` is not the
 * vault's), so callers that branch on a code name the family too. The brand is a registered symbol (`Symbol.for`),
 * the same in every copy of this module: the `webex-auth token` bundle has its own copy of the vault and of this file,
 * and a lazily loaded part that must share no module with that bundle (see scripts/build.mjs) brands its errors with
 * the same symbol, holding its family, without importing anything. Importing nothing, this file fits any bundle.
 */

/** The brand's key, registered process-wide: equal across copies of this module and bundles. */
export const WEBEX_AUTH_ERROR: unique symbol = Symbol.for('webex-auth.error') as never;

/**
 * Whose error it is, the value of the brand:
 * - `vault`: the vault's refusals and failures (VaultError and its kin, the identity calls, a refused webhook address);
 * - `config`: a wrong setting;
 * - `cli`: a command's failure the user can fix;
 * - `oauth`: an answer of Webex's OAuth endpoints (WebexOAuthError), or no answer;
 * - `authorization`: our own checks around an authorization (its callback, state, id_token and requested scopes);
 * - `webex`: a failed call to Webex's REST API (WebexApiError).
 */
export type WebexAuthErrorFamily = 'vault' | 'config' | 'cli' | 'oauth' | 'authorization' | 'webex';

/** An error with a brand and a code; the base of the vault's, the configuration's and the CLI's errors. */
export class WebexAuthError<
  C extends string = string,
  F extends WebexAuthErrorFamily = WebexAuthErrorFamily,
> extends Error {
  /** Stable machine-readable code: what callers branch on (the message is for people). */
  readonly code: C;
  /** The brand, holding the family: set on every webex-auth error, whichever copy of this class made it. */
  readonly [WEBEX_AUTH_ERROR]: F;

  constructor(family: F, code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this[WEBEX_AUTH_ERROR] = family;
  }

  /** The family, as the brand holds it. */
  get family(): F {
    return this[WEBEX_AUTH_ERROR];
  }
}

/** What {@link isWebexAuthError} may require besides the brand: a family, a code, or both. */
export interface WebexAuthErrorMatch<C extends string = string> {
  family?: WebexAuthErrorFamily;
  code?: C;
}

const FAMILIES: ReadonlySet<unknown> = new Set<WebexAuthErrorFamily>([
  'vault',
  'config',
  'cli',
  'oauth',
  'authorization',
  'webex',
]);

/**
 * Whether `error` is a webex-auth error (from any copy of {@link WebexAuthError}, or branded by hand with
 * `Symbol.for('webex-auth.error')` set to its family), and, when asked, one of that family and with that code.
 * A bare code (`isWebexAuthError(e, 'not_found')`) matches that code in any family: name the family where codes
 * overlap (`rate_limited`, `invalid_request` are both the OAuth client's and the vault's).
 */
export function isWebexAuthError<C extends string = string>(
  error: unknown,
  match?: C | WebexAuthErrorMatch<C>,
): error is WebexAuthError<C> {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { [WEBEX_AUTH_ERROR]?: unknown; code?: unknown };
  const family = e[WEBEX_AUTH_ERROR];
  if (!FAMILIES.has(family) || typeof e.code !== 'string') return false;
  if (match === undefined) return true;
  const { family: wanted, code } = typeof match === 'string' ? { family: undefined, code: match } : match;
  return (wanted === undefined || family === wanted) && (code === undefined || e.code === code);
}
