/**
 * Web sessions, kept in the store (SQLite or PostgreSQL) through the vault, so every instance sharing `DATABASE_URL`
 * and `WEBEX_AUTH_KEYS` sees the same sessions and a restart loses none. The browser holds a signed cookie with a
 * random session id; the store keeps only its hash and the session's data encrypted.
 *
 * No anonymous GET makes a session: one is made when state must be kept (a sign-in, `/configure`, a Try-it result),
 * and making one is rate-limited per client address. A flow needs no session and writes nothing when it starts: the
 * browser holds each pending authorization (its PKCE verifier and nonce) in a cookie of its own, sealed by the vault
 * and bound to the browser's flow id — a signed cookie that lives as long as they do (made without a session, it
 * spends the same creation limit). The callback takes the state in the store, at most once, before the code exchange.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { secureRandomBytes } from '../vault/crypto/random.js';
import { MAX_SEALED_PENDING, PENDING_KEY, pendingKey } from '../vault/sessions.js';
import type { PendingEntry, WebSession, WebSessions } from '../vault/types.js';
import type { SessionAccount } from './access/principal.js';
import { createRateLimiter, type RateLimiter } from './routes/api/ratelimit.js';

/** The outcome of a "Try it" call, shown once on the connection page. */
export interface TryResult {
  label: string;
  status: number;
  durationMs: number;
  trackingId: string | undefined;
  body: unknown;
  /** Scopes that would allow the call, when it was refused with 403. */
  requiredScopes?: string[];
}

/** What the server keeps in a session (stored encrypted). */
export interface SessionData {
  /** The signed-in Webex account (team mode). */
  account?: SessionAccount;
  /** Local mode with ADMIN_TOKEN: the token was entered in this session. */
  adminUnlocked?: boolean;
  /** The integration this browser brought with the bring-your-own form (owned by this session's owner). */
  integrationId?: string;
  /** One-shot Try-it results per connection id. */
  flash?: Record<string, TryResult>;
}

/** Limits of sessions and their pending authorizations. */
export const SESSION_LIMITS = {
  /** Idle lifetime of a session; each use extends it (written at most every `touchEveryMs`). */
  idleTtlMs: 12 * 60 * 60_000,
  touchEveryMs: 10 * 60_000,
  /** How long a pending authorization lives (Webex codes live 5 minutes; the consent page may take a while). */
  pendingTtlMs: 15 * 60_000,
  /**
   * Pending authorizations per browser: each is a cookie of 0.6-2 KB that the browser sends with every request while it
   * waits, and Node refuses request headers over 16 KB.
   */
  maxPending: 5,
  /** Session creation per client address: a burst, then SESSION_CREATION_LIMIT per minute (default 12). */
  createBurst: 30,
} as const;

/** The cookie names: `__Host-` (Secure, path /, no Domain) when the public scheme is https. */
export const SESSION_COOKIE = 'webex_auth_session';
export const SECURE_SESSION_COOKIE = '__Host-webex_auth_session';
/** The flow cookie: the id a browser's pending authorizations are sealed to, flagged as the session cookie. */
export const FLOW_COOKIE = 'webex_auth_flow';
export const SECURE_FLOW_COOKIE = '__Host-webex_auth_flow';
/** The prefix of a pending authorization's cookie; its `pendingKey` (vault/sessions.ts) follows. */
export const PENDING_COOKIE = 'webex_auth_pending_';
export const SECURE_PENDING_COOKIE = '__Host-webex_auth_pending_';
/**
 * The most bytes a browser's pending-authorization cookies may take in its requests' Cookie header, all together: Node
 * refuses request headers over 16 KB with a 431, and the browser would send them with every request until they expire.
 */
const PENDING_COOKIES_BYTES = 8192;
/** A session or flow id: 32 random bytes, base64url (the vault's format). */
const BROWSER_ID = /^[A-Za-z0-9_-]{43}$/;

/** Too many sessions were made from one client address: answer 429 with `retryAfter` seconds. */
export class SessionLimitError extends Error {
  override name = 'SessionLimitError';
  constructor(readonly retryAfter: number) {
    super('too many new sessions from this address');
  }
}

/** The client-address key of the creation limit: the address, or its /64 for IPv6. */
export function addressKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1] as string;
  const [head = '', tail] = ip.toLowerCase().split('%')[0]?.split('::') ?? [];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0');
  return [...headGroups, ...fill, ...tailGroups].slice(0, 4).join(':');
}

/** Session operations of the server: cookie handling, creation limit, rotation; over the vault's session store. */
export class SessionManager {
  readonly #limit: RateLimiter | undefined;
  readonly #secureHost: string | undefined;
  /** The life of a new session: in team mode one without an account lives as long as a pending sign-in. */
  readonly #newTtlMs: number;

  constructor(
    readonly store: WebSessions,
    config: Pick<Config, 'publicUrl' | 'accessMode' | 'sessionCreationPerMinute'>,
    private readonly clock: () => number = Date.now,
  ) {
    this.#newTtlMs = config.accessMode === 'team' ? SESSION_LIMITS.pendingTtlMs : SESSION_LIMITS.idleTtlMs;
    // SESSION_CREATION_LIMIT=off (0) turns it off, e.g. for a load test of OAuth flows from one address.
    this.#limit =
      config.sessionCreationPerMinute > 0
        ? createRateLimiter({
            burst: Math.max(SESSION_LIMITS.createBurst, config.sessionCreationPerMinute),
            perSecond: config.sessionCreationPerMinute / 60,
          })
        : undefined;
    const pub = config.publicUrl ? new URL(config.publicUrl) : undefined;
    this.#secureHost = pub?.protocol === 'https:' ? pub.hostname : undefined;
  }

  /** Whether this request's public scheme is https (directly, through a trusted proxy, or by PUBLIC_URL). */
  secure(request: FastifyRequest): boolean {
    return request.protocol === 'https' || (this.#secureHost !== undefined && request.hostname === this.#secureHost);
  }

  /** The cookie name for this request. */
  cookieName(request: FastifyRequest): string {
    return this.secure(request) ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  }

  /** The flow cookie's name for this request. */
  flowCookieName(request: FastifyRequest): string {
    return this.secure(request) ? SECURE_FLOW_COOKIE : FLOW_COOKIE;
  }

  /** The value of the signed cookie `name` when its signature holds (any of the ring's cookie keys), else nothing. */
  signedCookie(request: FastifyRequest, name: string): string | undefined {
    const signed = request.cookies[name];
    const unsigned = signed && signed.length < 400 ? request.unsignCookie(signed) : undefined;
    return unsigned?.valid && unsigned.value ? unsigned.value : undefined;
  }

  /** The flow id this browser's signed flow cookie holds, if any. */
  flowId(request: FastifyRequest): string | undefined {
    const id = this.signedCookie(request, this.flowCookieName(request));
    return id && BROWSER_ID.test(id) ? id : undefined;
  }

  /**
   * The flow id this browser's pending authorizations are sealed to, made when it has none (without a session, that
   * spends the client address's creation limit, as a new session would). The flow cookie is set again at each use, so
   * it lives as long as the newest authorization it holds.
   * @throws {SessionLimitError} when this client address made too many lately.
   */
  browserId(request: FastifyRequest, reply: FastifyReply): string {
    const known = this.flowId(request);
    if (!known && !request.session) this.spend(request);
    const id = known ?? secureRandomBytes(32).toString('base64url');
    this.#setCookie(request, reply, this.flowCookieName(request), id, SESSION_LIMITS.pendingTtlMs / 1000);
    return id;
  }

  /** The pending-authorization cookie prefix for this request. */
  #pendingPrefix(request: FastifyRequest): string {
    return this.secure(request) ? SECURE_PENDING_COOKIE : PENDING_COOKIE;
  }

  /**
   * The sealed pending authorizations this browser sent: each cookie's key (its name's tail) and value. A name whose
   * tail is not a key is none of ours, and is neither counted nor touched.
   */
  pendingCookies(request: FastifyRequest): { key: string; value: string }[] {
    const prefix = this.#pendingPrefix(request);
    const out: { key: string; value: string }[] = [];
    for (const [name, value] of Object.entries(request.cookies)) {
      if (!name.startsWith(prefix) || value === undefined) continue;
      const key = name.slice(prefix.length);
      if (PENDING_KEY.test(key)) out.push({ key, value });
    }
    return out;
  }

  /**
   * What this browser holds for its flow of `state`: its flow id, the state's pending key, and the sealed pending
   * authorization it sent under that key.
   */
  pendingFor(
    request: FastifyRequest,
    state: string,
  ): { flowId: string | undefined; key: string; sealed: string | undefined } {
    const key = pendingKey(state);
    return { flowId: this.flowId(request), key, sealed: request.cookies[this.#pendingPrefix(request) + key] };
  }

  /** Gives this browser `sealed` under `key`, for as long as a pending authorization lives. */
  setPendingCookie(request: FastifyRequest, reply: FastifyReply, key: string, sealed: string): void {
    // Not signed: the vault's seal authenticates it (AES-GCM, bound to the flow id and the key).
    reply.setCookie(this.#pendingPrefix(request) + key, sealed, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure(request),
      path: '/',
      maxAge: SESSION_LIMITS.pendingTtlMs / 1000,
    });
  }

  /**
   * Seals `entry` for this browser (bound to its flow id, made if needed) and sets the cookie that holds it: starting
   * a flow writes nothing to the store. `full` when the browser already holds `maxPending` that still open, or they
   * would take more than {@link PENDING_COOKIES_BYTES} with the new one (those that do not open are dropped on the
   * way); `too-large` when the sealed entry would not fit a cookie.
   * @throws {SessionLimitError} when a new flow id is needed and this client address made too many ids lately.
   */
  holdPending(request: FastifyRequest, reply: FastifyReply, entry: PendingEntry): 'held' | 'full' | 'too-large' {
    const browser = this.browserId(request, reply);
    const sealed = this.store.sealPending(browser, entry, SESSION_LIMITS.pendingTtlMs);
    if (sealed.length > MAX_SEALED_PENDING) return 'too-large';
    const prefix = this.#pendingPrefix(request);
    const key = pendingKey(entry.pending.state);
    /** What a cookie adds to the Cookie header: `; name=value`, the value URI-encoded as it is sent. */
    const bytes = (k: string, value: string) => prefix.length + k.length + encodeURIComponent(value).length + 3;
    let held = this.pendingCookies(request);
    const fits = () =>
      held.length < SESSION_LIMITS.maxPending &&
      held.reduce((n, c) => n + bytes(c.key, c.value), bytes(key, sealed)) <= PENDING_COOKIES_BYTES;
    // Opened (AES) only when there are many: each that does not open (expired, another flow id's, altered) goes.
    if (!fits()) {
      held = held.filter(({ key: k, value }) => {
        const live = this.store.openPending(browser, k, value) !== undefined;
        if (!live) this.clearPendingCookie(request, reply, k);
        return live;
      });
      if (!fits()) return 'full';
    }
    this.setPendingCookie(request, reply, key, sealed);
    return 'held';
  }

  /** Drops this browser's pending-authorization cookie `key` (answered, expired, or not ours). */
  clearPendingCookie(request: FastifyRequest, reply: FastifyReply, key: string): void {
    reply.clearCookie(this.#pendingPrefix(request) + key, { path: '/', secure: this.secure(request) });
  }

  /** The typed data of the request's session ({} when there is none). */
  data(request: FastifyRequest): SessionData {
    return (request.session?.data ?? {}) as SessionData;
  }

  /**
   * The request's session, made (and its cookie set) when it has none.
   * @throws {SessionLimitError} when this client address made too many sessions lately.
   */
  async ensure(request: FastifyRequest, reply: FastifyReply): Promise<WebSession> {
    if (request.session) return request.session;
    this.spend(request);
    const session = await this.store.create({ data: {}, ttlMs: this.#newTtlMs });
    this.#adopt(request, reply, session);
    return session;
  }

  /**
   * Takes one unit of this client address's budget (a new session, a wrong admin-token guess).
   * @throws {SessionLimitError} when it is spent.
   */
  spend(request: FastifyRequest): void {
    const wait = this.#limit?.(addressKey(request.ip), this.clock()) ?? 0;
    if (wait > 0) throw new SessionLimitError(wait);
  }

  /** Writes the request's session data (and extends its life). */
  async save(request: FastifyRequest): Promise<void> {
    if (request.session) await this.store.save(request.session, SESSION_LIMITS.idleTtlMs);
  }

  /** Extends the session's life when it was last extended a while ago (one write per `touchEveryMs` at most). */
  async touch(request: FastifyRequest): Promise<void> {
    const s = request.session;
    // Only a session holding something is extended (an account, an unlocked admin, local mode's operator state).
    const worth = this.#newTtlMs === SESSION_LIMITS.idleTtlMs || s?.accountId !== undefined || s?.data.adminUnlocked;
    if (s && worth && s.expiresAt - this.clock() < SESSION_LIMITS.idleTtlMs - SESSION_LIMITS.touchEveryMs) {
      await this.store.save(s, SESSION_LIMITS.idleTtlMs);
    }
  }

  /**
   * Gives the session a new id (sign-in, a completed authorization, `/configure`): a cookie planted before — session
   * fixation — stops working, and so do forms rendered for the old id.
   */
  async rotate(request: FastifyRequest, reply: FastifyReply): Promise<WebSession> {
    const old = request.session;
    if (!old) return this.ensure(request, reply);
    const next = await this.store.rotate(old, SESSION_LIMITS.idleTtlMs);
    this.#adopt(request, reply, next);
    return next;
  }

  /**
   * Ends the session (sign-out) and clears its cookie, and the flow cookie with the pending authorizations sealed to
   * it: a sign-out ends the flows this browser started.
   */
  async destroy(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.session) await this.store.destroy(request.session.id);
    request.session = undefined;
    // Secure as they were set: a browser ignores a clear of a `__Host-` cookie without it.
    const secure = this.secure(request);
    reply.clearCookie(this.cookieName(request), { path: '/', secure });
    if (request.cookies[this.flowCookieName(request)] !== undefined) {
      reply.clearCookie(this.flowCookieName(request), { path: '/', secure });
    }
    for (const { key } of this.pendingCookies(request)) this.clearPendingCookie(request, reply, key);
    request.csrfIssued = undefined;
  }

  #adopt(request: FastifyRequest, reply: FastifyReply, session: WebSession): void {
    request.session = session;
    this.#setCookie(request, reply, this.cookieName(request), session.id);
    // Forms rendered from now on carry a token of the new session.
    request.csrfIssued = undefined;
  }

  /**
   * Sets a signed, HttpOnly, SameSite=Lax cookie for the whole site (Secure under https); without `maxAge`, a cookie
   * that lasts as long as the browser session.
   */
  #setCookie(request: FastifyRequest, reply: FastifyReply, name: string, value: string, maxAge?: number): void {
    reply.setCookie(name, value, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure(request),
      path: '/',
      ...(maxAge === undefined ? {} : { maxAge }),
    });
  }
}
