/**
 * The tables whose rows the vault caches behind a change stamp of their own ({@link ChangeScope}): a write of this
 * process moves a table's stamp only when the statement names the table, so the many writes of a browser flow
 * (sessions, taken states, grants, the audit log) leave a cached integration row usable.
 *
 * Naming the table is enough because no write elsewhere reaches these rows: neither table references another one
 * (no foreign key, so no cascade into it) and no SQLite trigger writes to it; test/vault/change-scopes.test.ts checks
 * both against the migrated schemas. A statement that names a table without writing it (a DELETE of webhook deliveries
 * whose sub-select reads webhook_endpoints) moves the stamp too: one read more, never one less.
 */

/** A table the vault caches rows of, and its name in the store. */
export const SCOPED_TABLES = {
  integrations: 'integrations',
  webhookEndpoints: 'webhook_endpoints',
  /** A connection page's refresh history and proxy calls: read at every view, written by refreshes and proxy calls. */
  refreshHistory: 'refresh_history',
  proxyCalls: 'proxy_calls',
} as const;

/** A scope with a change stamp of its own: writes to its table only. */
export type TableScope = keyof typeof SCOPED_TABLES;

/** What {@link Store.changeStamp} can be asked about. */
export type ChangeScope = 'connections' | 'apiKeys' | TableScope;

/** The table scopes, in a fixed order. */
export const TABLE_SCOPES = Object.keys(SCOPED_TABLES) as TableScope[];

const named = TABLE_SCOPES.map((scope) => ({ scope, pattern: new RegExp(`\\b${SCOPED_TABLES[scope]}\\b`, 'i') }));

/** The table scopes a write statement may change: those whose table its text names. */
export function scopesWritten(sql: string): TableScope[] {
  return named.filter((n) => n.pattern.test(sql)).map((n) => n.scope);
}

/** Per-scope counters of this process's writes, one per table scope, all starting at 0. */
export function scopeCounters(): Record<TableScope, number> {
  return { integrations: 0, webhookEndpoints: 0, refreshHistory: 0, proxyCalls: 0 };
}
