/**
 * The token route's answer, serialized once per token and second instead of once per request (the broker's hot path,
 * bench/limits.md): building the object, two `toISOString` calls and `JSON.stringify` were ~5–7 µs of a ~25 µs bare
 * answer. A body is reused only while everything in it is unchanged — the same access token (a refresh, a re-grant or
 * a key rotation gives another), expiry, `min_validity_met`, person and scopes, and the same whole `expires_in`
 * second — so an answer never differs from the one built afresh. The cache holds the token the vault's token cache
 * already holds in this process, in memory only, bounded per connection.
 */
import { BoundedCache } from '../../../vault/bounded-cache.js';
import type { FreshToken } from '../../../vault/types.js';

/** The content type Fastify gives a serialized object, which a pre-serialized body keeps. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

interface CachedBody {
  token: FreshToken;
  expiresIn: number;
  body: string;
}

/** Whether two answers of the vault say the same thing (the access token first: it changes on any new grant). */
function sameToken(a: FreshToken, b: FreshToken): boolean {
  // The same object first: the vault's in-memory answer is shared between requests (token-cache.ts).
  return (
    a === b ||
    (a.accessToken === b.accessToken &&
      a.expiresAt === b.expiresAt &&
      a.minValidityMet === b.minValidityMet &&
      a.person.id === b.person.id &&
      a.person.email === b.person.email &&
      a.person.displayName === b.person.displayName &&
      a.scopes.length === b.scopes.length &&
      a.scopes.every((s, i) => s === b.scopes[i]))
  );
}

/** The JSON body of `GET /api/v1/connections/:id/token` for token `t` at time `now` (epoch ms). */
export function tokenBody(t: FreshToken, now: number): string {
  return JSON.stringify({
    access_token: t.accessToken,
    token_type: 'Bearer',
    expires_at: new Date(t.expiresAt).toISOString(),
    expires_in: Math.max(0, Math.floor((t.expiresAt - now) / 1000)),
    scopes: t.scopes,
    // false: this token lives less than min_validity (Webex grants no longer ones); it is the freshest there is.
    min_validity_met: t.minValidityMet,
    person: { id: t.person.id, email: t.person.email, display_name: t.person.displayName },
  });
}

/** Creates a per-connection cache of {@link tokenBody} (at most `max` connections, default 10,000). */
export function createTokenBodies(max = 10_000): (connectionId: string, t: FreshToken, now?: number) => string {
  const bodies = new BoundedCache<string, CachedBody>(max);
  return (connectionId, t, now = Date.now()) => {
    const expiresIn = Math.max(0, Math.floor((t.expiresAt - now) / 1000));
    const hit = bodies.get(connectionId);
    if (hit && hit.expiresIn === expiresIn && sameToken(hit.token, t)) return hit.body;
    const body = tokenBody(t, now);
    bodies.set(connectionId, { token: t, expiresIn, body });
    return body;
  };
}
