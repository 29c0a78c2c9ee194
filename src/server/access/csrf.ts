/**
 * Stateless CSRF tokens: `<issued-at>.<HMAC-SHA256(key, "csrf|<binding>|<issued-at>")>`, where the binding is the
 * session id when the browser has a session and `anon` when it has none (the home page needs no session; a form sent
 * from it makes one). A session's tokens change whenever its id rotates (sign-in, a completed authorization,
 * `/configure`). The key derives from the key ring, so every instance sharing WEBEX_AUTH_KEYS accepts them.
 *
 * Every state-changing form POST also passes a Fetch Metadata / Origin check (see {@link crossSiteRequest}): a token
 * from the public landing page is useless to another site, which cannot make a same-origin request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a form stays valid. */
export const CSRF_TTL_MS = 12 * 60 * 60_000;

/** Signs and checks CSRF tokens with keys derived from the key ring (the first signs, any verifies). */
export class CsrfTokens {
  constructor(
    private readonly keys: Buffer[],
    private readonly clock: () => number = Date.now,
  ) {}

  /** A token for forms shown to a browser with session id `sessionId` (or none). */
  issue(sessionId: string | undefined): string {
    const at = Math.floor(this.clock() / 1000).toString(36);
    return `${at}.${this.#mac(this.keys[0] as Buffer, sessionId, at)}`;
  }

  /** Whether `token` was issued for `sessionId` (or, when `allowAnonymous`, for a browser with no session). */
  verify(token: unknown, sessionId: string | undefined, allowAnonymous: boolean): boolean {
    if (typeof token !== 'string' || token.length > 100) return false;
    const dot = token.indexOf('.');
    if (dot < 1) return false;
    const at = token.slice(0, dot);
    const issued = Number.parseInt(at, 36) * 1000;
    if (!Number.isFinite(issued) || this.clock() - issued > CSRF_TTL_MS || issued - this.clock() > 60_000) return false;
    const sent = Buffer.from(token.slice(dot + 1));
    const bindings = sessionId ? [sessionId] : [];
    if (allowAnonymous || !sessionId) bindings.push('');
    for (const key of this.keys) {
      for (const binding of bindings) {
        const want = Buffer.from(this.#mac(key, binding || undefined, at));
        if (want.length === sent.length && timingSafeEqual(want, sent)) return true;
      }
    }
    return false;
  }

  /**
   * The last MAC computed, by key and message: a token only changes once a second, and every browser without a session
   * shares the binding, so a busy second's home pages (and the forms those browsers send back) need one HMAC, not one
   * each. It holds nothing a page does not show. Keys are matched by identity: the key ring derives fresh Buffers and
   * never writes into them (a reload puts new ones in the array), so a key that is the same object has the same bytes.
   */
  #last: { key: Buffer; message: string; mac: string } | undefined;

  #mac(key: Buffer, sessionId: string | undefined, at: string): string {
    const message = `csrf|${sessionId ?? 'anon'}|${at}`;
    const last = this.#last;
    if (last !== undefined && last.key === key && last.message === message) return last.mac;
    const mac = createHmac('sha256', key).update(message).digest('base64url');
    this.#last = { key, message, mac };
    return mac;
  }
}

/**
 * True when the browser says the request comes from another site. `Sec-Fetch-Site` decides when present (every
 * current browser sends it): `cross-site` and `same-site` (a sibling subdomain is another site here) are refused.
 * Without it, an `Origin` naming another origin is refused. `Origin: null` decides nothing: our pages send
 * `Referrer-Policy: no-referrer`, under which a browser sends `null` for its own form posts too. Requests with
 * neither header (curl, old browsers) fall back to the token alone.
 */
export function crossSiteRequest(
  headers: Record<string, string | string[] | undefined>,
  ownOrigins: string[],
): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'cross-site' || site === 'same-site';
  const origin = headers.origin;
  if (typeof origin !== 'string' || origin === '' || origin === 'null') return false;
  return !ownOrigins.includes(origin.toLowerCase());
}
