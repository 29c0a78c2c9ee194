/** Row-mapping helpers shared by the SQL store's statement files (sql.ts, sql-sessions.ts). */

/** A database row as the driver returns it. */
export type Row = Record<string, unknown>;

/** A number column (PostgreSQL returns BIGINT and COUNT(*) as strings). */
export const num = (v: unknown): number => Number(v);
/** A nullable number column. */
export const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
/** A nullable text column. */
export const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
/** A JSON list of strings stored as text. */
export const list = (v: unknown): string[] => JSON.parse(String(v)) as string[];
/** An optional value as a statement parameter (undefined → NULL). */
export const nil = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
