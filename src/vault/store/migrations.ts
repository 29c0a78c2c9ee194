/** Reads the numbered migration files (`NNN_name.sql`) of one database kind, in order. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODE_ROOT } from '../../paths.js';
import type { Migration } from './sql.js';

/** The migrations folder (the build copies the .sql files into dist/). */
const root = join(CODE_ROOT, 'vault', 'migrations');

/**
 * Lists the migrations of `kind`, sorted by number. A migration's SQL is read from its file when first asked for: most
 * opens find every migration applied (SqlStore.migrate), and every CLI command opens the store.
 */
export function loadMigrations(kind: 'sqlite' | 'postgres'): Migration[] {
  const dir = join(root, kind);
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      id: Number(f.slice(0, 3)),
      name: f.replace(/\.sql$/, ''),
      get sql() {
        return readFileSync(join(dir, f), 'utf8');
      },
    }));
}
