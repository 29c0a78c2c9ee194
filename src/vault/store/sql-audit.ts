/**
 * The SQL store's statements for the audit log (migration 005 on SQLite, 007 on PostgreSQL), in the same portable SQL
 * as sql.ts; {@link SqlStore} delegates to them. Reads are newest first, served by the indexes on (at),
 * (owner_id, at) and (actor_id, at).
 */
import type { Executor } from './sql.js';
import { nil, num, optStr, type Row } from './sql-rows.js';
import type { AuditQuery, AuditRow } from './types.js';

/** Rows one purge statement deletes at most. */
export const PURGE_BATCH = 1000;

function auditOf(r: Row): AuditRow {
  return {
    id: String(r.id),
    at: num(r.at),
    actorKind: String(r.actor_kind),
    actorId: optStr(r.actor_id),
    actorLabel: optStr(r.actor_label),
    action: String(r.action),
    ownerId: optStr(r.owner_id),
    target: optStr(r.target),
    address: optStr(r.address),
    detail: optStr(r.detail),
  };
}

/** The audit log over an executor (see the `Store` methods of the same names). */
export class AuditStatements {
  constructor(private readonly db: Executor) {}

  async insertAudit(row: AuditRow): Promise<void> {
    await this.db.run(
      `INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_label, action, owner_id, target, address, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.id,
        row.at,
        row.actorKind,
        nil(row.actorId),
        nil(row.actorLabel),
        row.action,
        nil(row.ownerId),
        nil(row.target),
        nil(row.address),
        nil(row.detail),
      ],
    );
  }

  async listAudit(query: AuditQuery): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.ownerId !== undefined) {
      where.push('(owner_id = ? OR actor_id = ?)');
      params.push(query.ownerId, query.ownerId);
    }
    if (query.since !== undefined) {
      where.push('at >= ?');
      params.push(query.since);
    }
    if (query.before !== undefined) {
      // A page ends inside a millisecond: the next one starts after its last (at, id), not after its last at.
      if (query.beforeId !== undefined) {
        where.push('(at < ? OR (at = ? AND id < ?))');
        params.push(query.before, query.before, query.beforeId);
      } else {
        where.push('at < ?');
        params.push(query.before);
      }
    }
    if (query.action !== undefined) {
      where.push('action = ?');
      params.push(query.action);
    }
    params.push(query.limit);
    const rows = await this.db.all(
      `SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`,
      params,
    );
    return rows.map(auditOf);
  }

  /**
   * Deletes in time slices of about {@link PURGE_BATCH} rows: a first purge after a long outage (or a shorter
   * retention) never holds the database's write lock for the whole backlog at once.
   */
  async purgeAudit(before: number): Promise<number> {
    let total = 0;
    for (;;) {
      // The time of the (batch + 1)-th oldest purgeable row: everything older goes in this slice.
      const next = (
        await this.db.all('SELECT at FROM audit_log WHERE at < ? ORDER BY at LIMIT 1 OFFSET ?', [before, PURGE_BATCH])
      )[0];
      if (!next) return total + (await this.db.run('DELETE FROM audit_log WHERE at < ?', [before]));
      const upTo = num(next.at);
      // More than a batch in one millisecond: that millisecond goes whole (a slice must make progress).
      const n = await this.db.run('DELETE FROM audit_log WHERE at < ?', [upTo]);
      total += n > 0 ? n : await this.db.run('DELETE FROM audit_log WHERE at <= ?', [upTo]);
    }
  }
}
