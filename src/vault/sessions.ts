/**
 * Web sessions and their pending authorizations, in the store, so that every instance sharing it serves the same
 * browsers and a restart signs nobody out.
 *
 * - A session id is 32 random bytes (base64url): the cookie's value. The store keys the row by its SHA-256 (hex), so
 *   a copy of the database holds no usable session id. A pending authorization is keyed by the SHA-256 of its state.
 * - The session's data (with its account id) and the pending authorization (PKCE verifier, nonce, …) are JSON
 *   envelope-encrypted with the key ring, bound to the row's hash: a row copied onto another session fails to open.
 * - A row that cannot be opened (its key was removed from the ring, or it was altered) or parsed is no session / no
 *   pending authorization: the browser signs in again. Nothing here throws to the caller for a bad cookie or state.
 * - Taking a pending authorization is one atomic store statement: a state is answered at most once across processes.
 */
import { hash as digest } from 'node:crypto';
import type { Clock, PendingAuthorization } from '../oauth/types.js';
import type { KeyRing } from './crypto/keyring.js';
import { OpenedSecrets } from './crypto/opened.js';
import { secureRandomBytes } from './crypto/random.js';
import { pendingSlot, sessionSlot } from './slots.js';
import type { PendingRow, SessionRow, Store } from './store/types.js';
import { type PendingEntry, VaultError, type WebSession, type WebSessions } from './types.js';

/** The shape of a session id: 32 bytes, base64url without padding. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
/** The longest state accepted (ours are far shorter; anything longer is not ours). */
const MAX_STATE = 512;

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

/** A PendingAuthorization read back from JSON, or undefined when it is not one (or not for `state`). */
function pendingOf(
  json: string,
  state: string,
): { pending: PendingAuthorization; ownerId: string | undefined; returnTo: string | undefined } | undefined {
  const { ownerId, returnTo, ...p } = JSON.parse(json) as Record<string, unknown>;
  if (!isObject(p) || p.state !== state) return undefined;
  if (typeof p.codeVerifier !== 'string' || typeof p.redirectUri !== 'string' || !Array.isArray(p.scopes)) {
    return undefined;
  }
  return {
    pending: p as unknown as PendingAuthorization,
    ownerId: typeof ownerId === 'string' ? ownerId : undefined,
    returnTo: typeof returnTo === 'string' ? returnTo : undefined,
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

    async addPending(sessionId, entry: PendingEntry, ttlMs) {
      checkTtl(ttlMs);
      if (!isSessionId(sessionId)) throw new VaultError('invalid_request', 'Invalid session id.');
      if (entry.purpose !== 'signin' && entry.purpose !== 'connect') {
        throw new VaultError('invalid_request', 'Invalid pending authorization: purpose.');
      }
      if (!isState(entry.pending.state))
        throw new VaultError('invalid_request', 'Invalid pending authorization: state.');
      if (!URL.canParse(entry.pending.redirectUri)) {
        throw new VaultError('invalid_request', 'Invalid pending authorization: redirectUri.');
      }
      const stateHash = sha256(entry.pending.state);
      const now = clock();
      const row: PendingRow = {
        stateHash,
        sessionHash: sha256(sessionId),
        purpose: entry.purpose,
        integrationId: entry.integrationId,
        redirectPath: new URL(entry.pending.redirectUri).pathname,
        // The owner (and the return path) travel inside the encrypted data, beside the verifier: nothing in clear says
        // whose flow it is; an optional field there needs no schema change.
        dataEnc: sealed.encrypt(
          JSON.stringify({
            ...entry.pending,
            ...(entry.ownerId ? { ownerId: entry.ownerId } : {}),
            ...(entry.returnTo ? { returnTo: entry.returnTo } : {}),
          }),
          pendingSlot(stateHash),
        ),
        keyId: ring.activeKeyId,
        expiresAt: now + ttlMs,
        createdAt: now,
        takenAt: undefined,
        connectionId: undefined,
      };
      await store.insertPending(row);
    },

    async takePending(sessionId, state) {
      if (!isSessionId(sessionId) || !isState(state)) return undefined;
      const row = await store.takePending(sha256(state), sha256(sessionId), clock());
      if (!row) return undefined;
      let opened: ReturnType<typeof pendingOf>;
      try {
        opened = pendingOf(sealed.decrypt(row.dataEnc, pendingSlot(row.stateHash)), state);
      } catch {
        return undefined;
      } finally {
        // Taken at most once: its verifier is not kept any longer.
        sealed.forget(pendingSlot(row.stateHash));
      }
      return (
        opened && {
          purpose: row.purpose,
          integrationId: row.integrationId,
          pending: opened.pending,
          ownerId: opened.ownerId,
          ...(opened.returnTo ? { returnTo: opened.returnTo } : {}),
        }
      );
    },

    async findPending(sessionId, state) {
      if (!isSessionId(sessionId) || !isState(state)) return undefined;
      const row = await store.getPending(sha256(state), sha256(sessionId));
      if (!row) return undefined;
      return {
        purpose: row.purpose,
        integrationId: row.integrationId,
        redirectPath: row.redirectPath,
        taken: row.takenAt !== undefined,
        connectionId: row.connectionId,
      };
    },

    async completePending(state, connectionId) {
      if (isState(state)) await store.completePending(sha256(state), connectionId);
    },

    async countPending(sessionId) {
      return isSessionId(sessionId) ? store.countPending(sha256(sessionId), clock()) : 0;
    },

    purgeExpired() {
      return store.purgeExpired(clock());
    },
  };
}
