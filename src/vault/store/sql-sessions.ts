/**
 * The SQL store's statements for accounts, web sessions and pending authorizations (migration 002 on SQLite, 004 on
 * PostgreSQL), in the same portable SQL as sql.ts; {@link SqlStore} delegates to them. Sessions and pending rows are
 * keyed by SHA-256 hashes (the vault hashes the session id and the state): the store never sees either.
 */
import type { Executor } from './sql.js';
import { nil, num, optNum, optStr, type Row } from './sql-rows.js';
import type { AccountRow, PendingRow, SessionRow } from './types.js';

/** How long a taken pending authorization is kept after its expiry (the "already used" page). */
export const TAKEN_PENDING_KEEP_MS = 86_400_000;

function accountOf(r: Row): AccountRow {
  return {
    id: String(r.id),
    personId: String(r.person_id),
    email: String(r.email),
    displayName: String(r.display_name),
    orgId: optStr(r.org_id),
    createdAt: num(r.created_at),
    lastSignInAt: num(r.last_sign_in_at),
  };
}

function sessionOf(r: Row): SessionRow {
  return {
    idHash: String(r.id_hash),
    accountId: optStr(r.account_id),
    dataEnc: String(r.data_enc),
    keyId: String(r.key_id),
    expiresAt: num(r.expires_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function pendingOf(r: Row): PendingRow {
  return {
    stateHash: String(r.state_hash),
    sessionHash: String(r.session_hash),
    purpose: r.purpose === 'signin' ? 'signin' : 'connect',
    integrationId: String(r.integration_id),
    redirectPath: String(r.redirect_path),
    dataEnc: String(r.data_enc),
    keyId: String(r.key_id),
    expiresAt: num(r.expires_at),
    createdAt: num(r.created_at),
    takenAt: optNum(r.taken_at),
    connectionId: optStr(r.connection_id),
  };
}

/** Accounts, sessions and pending authorizations over an executor (see the `Store` methods of the same names). */
export class SessionStatements {
  constructor(private readonly db: Executor) {}

  async upsertAccount(row: AccountRow): Promise<AccountRow> {
    const rows = await this.db.all(
      `INSERT INTO accounts (id, person_id, email, display_name, org_id, created_at, last_sign_in_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (person_id) DO UPDATE SET email = excluded.email, display_name = excluded.display_name,
         org_id = excluded.org_id, last_sign_in_at = excluded.last_sign_in_at
       RETURNING *`,
      [row.id, row.personId, row.email, row.displayName, nil(row.orgId), row.createdAt, row.lastSignInAt],
    );
    return accountOf(rows[0] as Row);
  }

  async getAccount(id: string): Promise<AccountRow | undefined> {
    const r = (await this.db.all('SELECT * FROM accounts WHERE id = ?', [id]))[0];
    return r ? accountOf(r) : undefined;
  }

  async listAccounts(): Promise<AccountRow[]> {
    return (await this.db.all('SELECT * FROM accounts ORDER BY created_at, id')).map(accountOf);
  }

  async insertSession(row: SessionRow): Promise<void> {
    await this.db.run(
      `INSERT INTO web_sessions (id_hash, account_id, data_enc, key_id, expires_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [row.idHash, nil(row.accountId), row.dataEnc, row.keyId, row.expiresAt, row.createdAt, row.updatedAt],
    );
  }

  async getSession(idHash: string, now: number): Promise<SessionRow | undefined> {
    const r = (await this.db.all('SELECT * FROM web_sessions WHERE id_hash = ? AND expires_at > ?', [idHash, now]))[0];
    return r ? sessionOf(r) : undefined;
  }

  /** An expired session (not yet purged) counts as gone: `updatedAt` is the writer's now. */
  async updateSession(
    idHash: string,
    w: Pick<SessionRow, 'accountId' | 'dataEnc' | 'keyId' | 'expiresAt' | 'updatedAt'>,
  ): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE web_sessions SET account_id = ?, data_enc = ?, key_id = ?, expires_at = ?, updated_at = ?
       WHERE id_hash = ? AND expires_at > ?`,
      [nil(w.accountId), w.dataEnc, w.keyId, w.expiresAt, w.updatedAt, idHash, w.updatedAt],
    );
    return changed > 0;
  }

  async deleteSession(idHash: string): Promise<boolean> {
    // The session first, so a concurrent read no longer finds it; pending rows left by a crash in between (or added
    // by a request racing the sign-out) belong to no session and are purged when they expire.
    const deleted = (await this.db.run('DELETE FROM web_sessions WHERE id_hash = ?', [idHash])) > 0;
    await this.db.run('DELETE FROM pending_authorizations WHERE session_hash = ?', [idHash]);
    return deleted;
  }

  async rotateSession(fromIdHash: string, row: SessionRow): Promise<void> {
    // The row changes its key in place (one statement, where a new row and the old one's delete took two): from this
    // statement on the old hash finds nothing, whatever runs next. Every column is rewritten, as an insert would.
    const moved = await this.db.run(
      `UPDATE web_sessions SET id_hash = ?, account_id = ?, data_enc = ?, key_id = ?, expires_at = ?, created_at = ?,
         updated_at = ?
       WHERE id_hash = ?`,
      [row.idHash, nil(row.accountId), row.dataEnc, row.keyId, row.expiresAt, row.createdAt, row.updatedAt, fromIdHash],
    );
    if (moved === 0) await this.insertSession(row);
    // Pending rows added for the old hash after this move belong to no session (as after a sign-out): they cannot be
    // taken through a session, and are purged when they expire.
    await this.db.run('UPDATE pending_authorizations SET session_hash = ? WHERE session_hash = ?', [
      row.idHash,
      fromIdHash,
    ]);
  }

  async insertPending(row: PendingRow): Promise<void> {
    await this.db.run(
      `INSERT INTO pending_authorizations (state_hash, session_hash, purpose, integration_id, redirect_path, data_enc,
         key_id, expires_at, created_at, taken_at, connection_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.stateHash,
        row.sessionHash,
        row.purpose,
        row.integrationId,
        row.redirectPath,
        row.dataEnc,
        row.keyId,
        row.expiresAt,
        row.createdAt,
        nil(row.takenAt),
        nil(row.connectionId),
      ],
    );
  }

  async takePending(stateHash: string, sessionHash: string, now: number): Promise<PendingRow | undefined> {
    // One statement: the WHERE is re-checked under the row lock (PostgreSQL) / the write lock (SQLite), so of two
    // concurrent takes exactly one changes the row and gets it back.
    const r = (
      await this.db.all(
        `UPDATE pending_authorizations SET taken_at = ?
         WHERE state_hash = ? AND session_hash = ? AND taken_at IS NULL AND expires_at > ?
         RETURNING *`,
        [now, stateHash, sessionHash, now],
      )
    )[0];
    return r ? pendingOf(r) : undefined;
  }

  async getPending(stateHash: string, sessionHash: string): Promise<PendingRow | undefined> {
    const r = (
      await this.db.all('SELECT * FROM pending_authorizations WHERE state_hash = ? AND session_hash = ?', [
        stateHash,
        sessionHash,
      ])
    )[0];
    return r ? pendingOf(r) : undefined;
  }

  /** Only a taken row records a connection (an untaken one produced none). */
  async completePending(stateHash: string, connectionId: string): Promise<void> {
    await this.db.run(
      'UPDATE pending_authorizations SET connection_id = ? WHERE state_hash = ? AND taken_at IS NOT NULL',
      [connectionId, stateHash],
    );
  }

  async countPending(sessionHash: string, now: number): Promise<number> {
    const rows = await this.db.all(
      `SELECT COUNT(*) AS n FROM pending_authorizations
       WHERE session_hash = ? AND taken_at IS NULL AND expires_at > ?`,
      [sessionHash, now],
    );
    return num(rows[0]?.n ?? 0);
  }

  /**
   * Deletes sessions expired before `now`, untaken pending rows expired before `now`, and taken ones a day after
   * their expiry ({@link TAKEN_PENDING_KEEP_MS}: long enough for the "already used" page of a reloaded callback).
   */
  async purgeExpired(now: number): Promise<number> {
    const sessions = await this.db.run('DELETE FROM web_sessions WHERE expires_at < ?', [now]);
    const pending = await this.db.run(
      `DELETE FROM pending_authorizations
       WHERE (taken_at IS NULL AND expires_at < ?) OR (taken_at IS NOT NULL AND expires_at < ?)`,
      [now, now - TAKEN_PENDING_KEEP_MS],
    );
    return sessions + pending;
  }
}
