/**
 * Web sessions, in the store, so that every instance sharing it serves the same browsers and a restart signs nobody
 * out; and pending authorizations, sealed for the browser that started them, so that starting a flow writes nothing.
 *
 * - A session id is 32 random bytes (base64url): the cookie's value. The store keys the row by its SHA-256 (hex), so
 *   a copy of the database holds no usable session id. The session's data (with its account id) is JSON
 *   envelope-encrypted with the key ring, bound to the row's hash: a row copied onto another session fails to open.
 * - A pending authorization (state, PKCE verifier, nonce, scopes, owner, expiry) is JSON envelope-encrypted with the
 *   key ring into a cookie value, bound to the SHA-256 of the browser's flow id and to the cookie's name (the state's
 *   {@link pendingKey}): it opens only for the callback of that state in that browser, and only until it expires. Any instance sharing the ring opens it.
 * - Taking it inserts the state's hash into the store in one atomic statement before the code exchange: a state is
 *   answered at most once across processes, whatever copies of the cookie exist.
 * - A row or cookie that cannot be opened (its key was removed from the ring, or it was altered) or parsed is no
 *   session / no pending authorization: the browser signs in or authorizes again. Nothing here throws to the caller
 *   for a bad cookie or state.
 */
import { hash as digest } from 'node:crypto';
import type { Clock, PendingAuthorization } from '../oauth/types.js';
import type { KeyRing } from './crypto/keyring.js';
import { OpenedSecrets } from './crypto/opened.js';
import { secureRandomBytes } from './crypto/random.js';
import { pendingSlot, sessionSlot } from './slots.js';
import type { SessionRow, Store } from './store/types.js';
import { type OpenedPending, type PendingEntry, VaultError, type WebSession, type WebSessions } from './types.js';

/** The shape of a session id: 32 bytes, base64url without padding. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
/** The longest state accepted (ours are far shorter; anything longer is not ours). */
const MAX_STATE = 512;
/**
 * The longest sealed pending authorization set as a cookie or opened: browsers keep a cookie of up to 4096 bytes with
 * its name. Ours are about 0.7 KB, 2 KB with the whole scope catalog.
 */
export const MAX_SEALED_PENDING = 3800;

/** SHA-256 (hex) of a session id or a state: the store's key. */
const sha256 = (s: string) => digest('sha256', s, 'hex');

/** What a session row's `data_enc` holds. */
interface SessionPayload {
  accountId: string | null;
  data: Record<string, unknown>;
}

const isSessionId = (id: unknown): id is string => typeof id === 'string' && SESSION_ID.test(id);
const isState = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && s.length <= MAX_STATE;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new VaultError('invalid_request', 'ttlMs must be a positive number.');
}

/**
 * The key of a state's pending authorization: 16 hex characters of the state's SHA-256. It names the cookie that holds
 * it, and the sealed value is bound to it (with the flow id), so a cookie opens only under its own name.
 */
export const pendingKey = (state: string): string => sha256(state).slice(0, 16);
/** The shape of a {@link pendingKey}. */
export const PENDING_KEY = /^[0-9a-f]{16}$/;

/** What a sealed pending authorization holds, as JSON. */
interface SealedPending {
  purpose: PendingEntry['purpose'];
  integrationId: string;
  expiresAt: number;
  pending: PendingAuthorization;
  ownerId?: string;
  returnTo?: string;
}

/** The pending authorization `json` holds, unexpired at `now`; undefined when it is not one. */
function pendingOf(json: string, now: number): OpenedPending | undefined {
  const v = JSON.parse(json) as unknown;
  if (!isObject(v) || !isObject(v.pending)) return undefined;
  const { purpose, integrationId, expiresAt, ownerId, returnTo } = v as Partial<Record<keyof SealedPending, unknown>>;
  const p = v.pending;
  if (!isState(p.state) || typeof p.codeVerifier !== 'string' || !Array.isArray(p.scopes)) return undefined;
  if (typeof p.redirectUri !== 'string' || !URL.canParse(p.redirectUri)) return undefined;
  if ((purpose !== 'signin' && purpose !== 'connect') || typeof integrationId !== 'string') return undefined;
  if (typeof expiresAt !== 'number' || !(expiresAt > now)) return undefined;
  return {
    purpose,
    integrationId,
    pending: p as unknown as PendingAuthorization,
    ownerId: typeof ownerId === 'string' ? ownerId : undefined,
    ...(typeof returnTo === 'string' ? { returnTo } : {}),
    redirectPath: new URL(p.redirectUri).pathname,
    expiresAt,
  };
}

/** The vault's {@link WebSessions} over a store and key ring; times from `clock`. */
export function createWebSessions(store: Store, ring: KeyRing, clock: Clock): WebSessions {
  // A session's data is read back (and decrypted) on every request of its browser, a pending authorization once by its
  // callback: both are kept in clear beside their ciphertext while it is unchanged (crypto/opened.ts).
  const sealed = new OpenedSecrets(ring);
  /** A session row for `idHash` holding `accountId` and `data`. */
  function sessionRow(
    idHash: string,
    accountId: string | undefined,
    data: Record<string, unknown>,
    expiresAt: number,
    createdAt: number,
    now: number,
  ): SessionRow {
    const payload: SessionPayload = { accountId: accountId ?? null, data };
    return {
      idHash,
      accountId,
      dataEnc: sealed.encrypt(JSON.stringify(payload), sessionSlot(idHash)),
      keyId: ring.activeKeyId,
      expiresAt,
      createdAt,
      updatedAt: now,
    };
  }

  /** The session a row holds, or undefined when it cannot be opened, parsed, or disagrees with its row. */
  function sessionOf(id: string, row: SessionRow): WebSession | undefined {
    let payload: unknown;
    try {
      payload = JSON.parse(sealed.decrypt(row.dataEnc, sessionSlot(row.idHash)));
    } catch {
      return undefined;
    }
    if (!isObject(payload) || !isObject(payload.data)) return undefined;
    const accountId = typeof payload.accountId === 'string' ? payload.accountId : undefined;
    // The clear account_id column (for sign-out-everywhere and counts) must say what the sealed data says.
    if (accountId !== row.accountId) return undefined;
    return { id, accountId, data: payload.data, expiresAt: row.expiresAt, createdAt: row.createdAt };
  }

  /** A new session (a fresh id) holding `accountId` and `data`, stored in place of `fromIdHash`'s row when given. */
  async function insert(
    accountId: string | undefined,
    data: Record<string, unknown>,
    ttlMs: number,
    createdAt?: number,
    fromIdHash?: string,
  ) {
    checkTtl(ttlMs);
    const id = secureRandomBytes(32).toString('base64url');
    const now = clock();
    const row = sessionRow(sha256(id), accountId, data, now + ttlMs, createdAt ?? now, now);
    if (fromIdHash === undefined) await store.insertSession(row);
    else await store.rotateSession(fromIdHash, row);
    return { id, accountId, data, expiresAt: row.expiresAt, createdAt: row.createdAt } satisfies WebSession;
  }

  return {
    create({ accountId, data = {}, ttlMs }) {
      return insert(accountId, data, ttlMs);
    },

    async get(id) {
      if (!isSessionId(id)) return undefined;
      const row = await store.getSession(sha256(id), clock());
      return row ? sessionOf(id, row) : undefined;
    },

    /** On success `session.expiresAt` is updated to the new expiry. */
    async save(session, ttlMs) {
      checkTtl(ttlMs);
      if (!isSessionId(session.id)) return false;
      const idHash = sha256(session.id);
      const now = clock();
      const row = sessionRow(idHash, session.accountId, session.data, now + ttlMs, session.createdAt, now);
      const saved = await store.updateSession(idHash, row);
      if (saved) session.expiresAt = row.expiresAt;
      return saved;
    },

    async rotate(session, ttlMs) {
      const oldHash = isSessionId(session.id) ? sha256(session.id) : undefined;
      const next = await insert(session.accountId, session.data, ttlMs, session.createdAt, oldHash);
      if (oldHash !== undefined) sealed.forget(sessionSlot(oldHash));
      return next;
    },

    async destroy(id) {
      if (!isSessionId(id)) return;
      const idHash = sha256(id);
      await store.deleteSession(idHash);
      sealed.forget(sessionSlot(idHash));
    },

    sealPending(browserId, entry, ttlMs) {
      checkTtl(ttlMs);
      if (!isSessionId(browserId)) throw new VaultError('invalid_request', 'Invalid flow id.');
      if (entry.purpose !== 'signin' && entry.purpose !== 'connect') {
        throw new VaultError('invalid_request', 'Invalid pending authorization: purpose.');
      }
      if (!isState(entry.pending.state))
        throw new VaultError('invalid_request', 'Invalid pending authorization: state.');
      if (!URL.canParse(entry.pending.redirectUri)) {
        throw new VaultError('invalid_request', 'Invalid pending authorization: redirectUri.');
      }
      const payload: SealedPending = {
        purpose: entry.purpose,
        integrationId: entry.integrationId,
        expiresAt: clock() + ttlMs,
        pending: entry.pending,
        ...(entry.ownerId ? { ownerId: entry.ownerId } : {}),
        ...(entry.returnTo ? { returnTo: entry.returnTo } : {}),
      };
      // Held in clear beside its ciphertext (crypto/opened.ts): this process's callback opens it without AES.
      return sealed.encrypt(JSON.stringify(payload), pendingSlot(sha256(browserId), pendingKey(entry.pending.state)));
    },

    openPending(browserId, key, value) {
      if (!isSessionId(browserId) || !PENDING_KEY.test(key)) return undefined;
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SEALED_PENDING) return undefined;
      try {
        return pendingOf(sealed.decrypt(value, pendingSlot(sha256(browserId), key)), clock());
      } catch {
        return undefined;
      }
    },

    async takePending(browserId, state, value) {
      if (!isState(state)) return undefined;
      const key = pendingKey(state);
      const opened = this.openPending(browserId, key, value);
      if (opened?.pending.state !== state) return undefined;
      const browserHash = sha256(browserId);
      // Answered at most once: its verifier is not kept any longer, taken or not.
      sealed.forget(pendingSlot(browserHash, key));
      const taken = await store.takeState({ stateHash: sha256(state), browserHash, expiresAt: opened.expiresAt });
      if (!taken) return undefined;
      const { purpose, integrationId, pending, ownerId, returnTo } = opened;
      return { purpose, integrationId, pending, ownerId, ...(returnTo ? { returnTo } : {}) };
    },

    async findTaken(browserId, state) {
      if (!isSessionId(browserId) || !isState(state)) return undefined;
      const row = await store.getTakenState(sha256(state), sha256(browserId));
      return row && { connectionId: row.connectionId };
    },

    async completePending(state, connectionId) {
      if (isState(state)) await store.completeTakenState(sha256(state), connectionId);
    },

    purgeExpired() {
      return store.purgeExpired(clock());
    },
  };
}
