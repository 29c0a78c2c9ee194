/**
 * The SQL store's statements for the proxy's call log (migrations sqlite/009 and postgres/011): the newest
 * {@link PROXY_CALLS_KEEP} calls per connection — method, path template, status, duration and Webex's tracking id,
 * never a body or token. Written in batches (src/vault/proxy-calls.ts queues them off the proxy's hot path).
 * Delegated from SqlStore (sql.ts).
 */

import type { Executor } from './sql.js';
import { nil, num, optStr, type Row } from './sql-rows.js';
import type { ProxyCallRow } from './types.js';

/** Proxied calls kept per connection. */
export const PROXY_CALLS_KEEP = 100;

/** Rows per INSERT (8 parameters each, well under SQLite's and PostgreSQL's parameter limits). */
const CHUNK = 200;

function callOf(r: Row): ProxyCallRow {
  return {
    connectionId: String(r.connection_id),
    at: num(r.at),
    method: String(r.method),
    template: String(r.template),
    status: num(r.status),
    durationMs: num(r.duration_ms),
    trackingId: optStr(r.tracking_id),
  };
}

/**
 * The rows of `rows` (oldest first) that the trim after an insert would keep: the last `keep` of each connection. A
 * busy proxy's batch holds hundreds of one connection's calls; writing only these spares SQLite pages written and then
 * deleted at once, and leaves the same rows as writing all of them.
 */
function newestPerConnection(rows: readonly ProxyCallRow[], keep: number): ProxyCallRow[] {
  const seen = new Map<string, number>();
  const kept: ProxyCallRow[] = [];
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i] as ProxyCallRow;
    const n = seen.get(r.connectionId) ?? 0;
    if (n >= keep) continue;
    seen.set(r.connectionId, n + 1);
    kept.push(r);
  }
  return kept.reverse();
}

/** The call log over an executor (see the `Store` methods of the same names). */
export class ProxyCallStatements {
  constructor(private readonly db: Pick<Executor, 'all' | 'run'>) {}

  async insert(all: readonly ProxyCallRow[], keep = PROXY_CALLS_KEEP): Promise<void> {
    const bound = Math.max(1, keep);
    const rows = newestPerConnection(all, bound);
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      await this.db.run(
        `INSERT INTO proxy_calls (connection_id, at, method, template, status, duration_ms, tracking_id)
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((r) => [
          r.connectionId,
          r.at,
          r.method,
          r.template,
          r.status,
          Math.round(r.durationMs),
          nil(r.trackingId),
        ]),
      );
    }
    // Bounded per connection: everything older than the `keep`-th newest row goes (the (connection_id, id) index).
    for (const id of new Set(rows.map((r) => r.connectionId))) {
      await this.db.run(
        `DELETE FROM proxy_calls WHERE connection_id = ? AND id <= (
           SELECT id FROM proxy_calls WHERE connection_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        [id, id, bound],
      );
    }
  }

  async list(connectionId: string, limit: number): Promise<ProxyCallRow[]> {
    const rows = await this.db.all('SELECT * FROM proxy_calls WHERE connection_id = ? ORDER BY id DESC LIMIT ?', [
      connectionId,
      Math.max(1, Math.min(limit, PROXY_CALLS_KEEP)),
    ]);
    return rows.map(callOf);
  }

  async deleteFor(connectionId: string): Promise<void> {
    await this.db.run('DELETE FROM proxy_calls WHERE connection_id = ?', [connectionId]);
  }
}
