/** Scope strings: parsing Webex's space-separated lists and comparing requested with granted scopes. */
import { OIDC_SCOPES, scopeInfo } from '../scopes/catalog.js';
import { ScopeError } from './errors.js';
import type { ScopeDiff } from './types.js';

/**
 * Splits a space-separated scope string (as Webex returns it in `scope`, or as a person types it) into distinct
 * scopes, in order. Accepts `+` and `%20` separators too, as a form-encoded or URL-encoded list has them.
 */
export function parseScopes(s: string): string[] {
  const parts = s
    .replace(/%20/gi, ' ')
    .split(/[\s+,]+/)
    .filter((x) => x !== '');
  return [...new Set(parts)];
}

/** Requested vs granted: what was granted, what is missing, and what came extra. */
export function scopeDiff(requested: string[], granted: string[]): ScopeDiff {
  const g = new Set(granted);
  const r = new Set(requested);
  return {
    granted: [...g],
    missing: [...r].filter((x) => !g.has(x)),
    extra: [...g].filter((x) => !r.has(x)),
  };
}

/**
 * Checks a list of scopes an integration wants to request: not empty, each one in the scope catalog. Returns the
 * distinct scopes in order. Throws {@link ScopeError} naming the first unknown scope.
 */
export function validateScopes(scopes: readonly string[]): string[] {
  const distinct = [...new Set(scopes.map((s) => s.trim()).filter((s) => s !== ''))];
  if (distinct.length === 0) throw new ScopeError('No scope requested: Webex requires at least one scope.');
  for (const s of distinct) {
    if (!scopeInfo(s)) {
      const shown = s.length > 80 ? `${s.slice(0, 80)}…` : s;
      throw new ScopeError(`Unknown Webex scope "${shown}": it is not in the Webex scope catalog.`);
    }
  }
  return distinct;
}

/** True when `scopes` asks for OpenID Connect (contains `openid`). */
export function wantsOpenId(scopes: readonly string[]): boolean {
  return scopes.includes('openid');
}

/** The OIDC scopes among `scopes` (they need no registration on the integration). */
export function oidcScopesOf(scopes: readonly string[]): string[] {
  return scopes.filter((s) => OIDC_SCOPES.includes(s));
}
