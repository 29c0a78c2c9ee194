/**
 * The one error base of webex-auth: every error callers branch on carries a stable machine-readable `code` and a
 * brand, and {@link isWebexAuthError} recognises it by that brand, never by class identity nor by `name`. The brand is
 * a registered symbol (`Symbol.for`), the same in every copy of this module: the `webex-auth token` bundle has its own
 * copy of the vault and of this file, and a lazily loaded part that must share no module with that bundle (see
 * scripts/build.mjs) brands its errors with the same symbol without importing anything. This file imports nothing,
 * so any bundle may hold it.
 */

/** The brand's key, registered process-wide: equal across copies of this module and bundles. */
export const WEBEX_AUTH_ERROR: unique symbol = Symbol.for('webex-auth.error') as never;

/** An error with a brand and a code; the base of the vault's, the configuration's and the CLI's errors. */
export class WebexAuthError<C extends string = string> extends Error {
  /** Stable machine-readable code: what callers branch on (the message is for people). */
  readonly code: C;

  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** The brand: true for every webex-auth error, whichever copy of this class made it. */
  get [WEBEX_AUTH_ERROR](): true {
    return true;
  }
}

/**
 * Whether `error` is a webex-auth error (from any copy of {@link WebexAuthError}, or branded by hand with
 * `Symbol.for('webex-auth.error')`), and when `code` is given, one with that code.
 */
export function isWebexAuthError<C extends string = string>(error: unknown, code?: C): error is WebexAuthError<C> {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { [WEBEX_AUTH_ERROR]?: unknown; code?: unknown };
  if (e[WEBEX_AUTH_ERROR] !== true || typeof e.code !== 'string') return false;
  return code === undefined || e.code === code;
}
