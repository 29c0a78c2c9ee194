/**
 * Row objects for better-sqlite3 statements in raw mode. better-sqlite3 builds each row object in C++, setting every
 * column by name through V8's API: for a wide row (a connection row has 35 columns) that costs more than running the
 * statement. Here each statement gets its own row maker, an object literal with its columns, so that its rows share
 * one hidden class built once (a generic copy-then-assign loop is megamorphic across statements, and as slow).
 */
import type Database from 'better-sqlite3';
import type { Row } from './sql-rows.js';

/** Makes one row object from the values of a raw row. */
type RowMaker = (values: unknown[]) => Row;

/** A statement's column count and row maker. */
interface RowShape {
  columns: number;
  make: RowMaker;
}

const shapes = new WeakMap<Database.Statement, RowShape>();

/**
 * The row maker of `names`. Its source holds only the column names, each written as a JSON string literal (so no name
 * can be anything but a key), and `__proto__` as a computed key (a literal one would set the prototype). A repeated
 * name takes its last column's value, as better-sqlite3's own rows do.
 */
export function rowMaker(names: readonly string[]): RowMaker {
  const fields = names.map((n, i) => {
    const key = JSON.stringify(n);
    return `${n === '__proto__' ? `[${key}]` : key}: v[${i}]`;
  });
  return new Function('v', `return { ${fields.join(', ')} };`) as RowMaker;
}

function shapeOf(statement: Database.Statement): RowShape {
  const names = statement.columns().map((c) => c.name);
  const shape = { columns: names.length, make: rowMaker(names) };
  shapes.set(statement, shape);
  return shape;
}

/** The rows of a raw-mode reader statement as objects keyed by column name, as better-sqlite3 would have made them. */
export function rowsOf(statement: Database.Statement, raw: unknown[][]): Row[] {
  if (raw.length === 0) return [];
  let shape = shapes.get(statement) ?? shapeOf(statement);
  // SQLite prepares a statement again when another connection changes the schema: a `SELECT *` may gain columns (the
  // migrations only ever add columns; a rename keeping the count would not be noticed here).
  if (shape.columns !== (raw[0] as unknown[]).length) shape = shapeOf(statement);
  const make = shape.make;
  const rows: Row[] = new Array(raw.length);
  for (let r = 0; r < raw.length; r++) rows[r] = make(raw[r] as unknown[]);
  return rows;
}
