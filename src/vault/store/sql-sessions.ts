/**
 * The SQL store's statements for accounts, web sessions (migration 002 on SQLite, 004 on PostgreSQL) and taken states
 * (011 on SQLite, 013 on PostgreSQL), in the same portable SQL as sql.ts; {@link SqlStore} delegates to them. Sessions
 * and taken states are keyed by SHA-256 hashes (the vault hashes the session id and the state): the store never sees
 * either. A pending authorization itself is not stored: the browser holds it, sealed (vault/sessions.ts).
 */
import type { Executor } from './sql.js';
import { nil, num, optStr, type Row } from './sql-rows.js';
import type { AccountRow, SessionRow, TakenStateRow } from './types.js';

/** How long a taken state is kept after its authorization's expiry (the "already used" page of a reloaded callback). */
export const TAKEN_STATE_KEEP_MS = 86_400_000;

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

function takenOf(r: Row): TakenStateRow {
  return {
    stateHash: String(r.state_hash),
    browserHash: String(r.browser_hash),
    expiresAt: num(r.expires_at),
    connectionId: optStr(r.connection_id),
  };
}

/** Accounts, sessions and taken states over an executor (see the `Store` methods of the same names). */
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
    return (await this.db.run('DELETE FROM web_sessions WHERE id_hash = ?', [idHash])) > 0;
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
  }

  async takeState(row: Omit<TakenStateRow, 'connectionId'>): Promise<boolean> {
    // One statement: of two concurrent inserts of one key exactly one inserts (SQLite's write lock, PostgreSQL's
    // unique index) and gets the row back; the other conflicts and gets none.
    const inserted = await this.db.all(
      `INSERT INTO taken_states (state_hash, browser_hash, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (state_hash) DO NOTHING RETURNING state_hash`,
      [row.stateHash, row.browserHash, row.expiresAt],
    );
    return inserted.length > 0;
  }

  async getTakenState(stateHash: string, browserHash: string): Promise<TakenStateRow | undefined> {
    const r = (
      await this.db.all('SELECT * FROM taken_states WHERE state_hash = ? AND browser_hash = ?', [
        stateHash,
        browserHash,
      ])
    )[0];
    return r ? takenOf(r) : undefined;
  }

  async completeTakenState(stateHash: string, connectionId: string): Promise<void> {
    await this.db.run('UPDATE taken_states SET connection_id = ? WHERE state_hash = ?', [connectionId, stateHash]);
  }

  /**
   * Deletes sessions expired before `now`, and taken states a day after their authorization's expiry
   * ({@link TAKEN_STATE_KEEP_MS}: long enough for the "already used" page of a reloaded callback).
   */
  async purgeExpired(now: number): Promise<number> {
    const sessions = await this.db.run('DELETE FROM web_sessions WHERE expires_at < ?', [now]);
    const taken = await this.db.run('DELETE FROM taken_states WHERE expires_at < ?', [now - TAKEN_STATE_KEEP_MS]);
    return sessions + taken;
  }
}
