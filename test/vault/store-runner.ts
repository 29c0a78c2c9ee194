/**
 * One suite, every store: runs the same tests on SQLite (a temp dir) and on PostgreSQL (a fresh schema), so a store
 * conformance test states its assertions once.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { openPostgresStore } from '../../src/vault/store/postgres.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import type { Store } from '../../src/vault/store/types.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, tempDir } from './helpers.js';

const pgUp = await postgresAvailable();

/** A store opened for one suite, and how to remove what it left (its temp dir or schema). */
interface OpenedStore {
  store: Store;
  cleanup: () => Promise<void>;
}

/** Opens a SQLite store on a file in a fresh temp dir. */
async function openSqlite(): Promise<OpenedStore> {
  const { dir, cleanup } = tempDir();
  return { store: await openSqliteStore(join(dir, 'vault.db')), cleanup: async () => cleanup() };
}

/** Opens a PostgreSQL store in a fresh schema named after `schemaPrefix`. */
async function openPostgres(schemaPrefix: string): Promise<OpenedStore> {
  const schema = freshSchema(schemaPrefix);
  return { store: await openPostgresStore(PG_URL, { schema }), cleanup: () => dropSchema(schema) };
}

/** Registers `describe("<title>: <name>")` around `tests`, with the store opened before them and closed after. */
function describeOnStore(title: string, name: string, open: () => Promise<OpenedStore>, tests: StoreTests): void {
  describe(`${title}: ${name}`, () => {
    let opened: OpenedStore | undefined;
    beforeAll(async () => {
      opened = await open();
    });
    afterAll(async () => {
      await opened?.store.close();
      await opened?.cleanup();
    });
    tests(() => {
      if (!opened) throw new Error(`the ${name} store is not open yet: call store() inside a test or hook`);
      return opened.store;
    });
  });
}

/** The tests of a store suite; `store()` is the suite's open store (call it inside tests and hooks, not at collection). */
export type StoreTests = (store: () => Store) => void;

/**
 * Runs `tests` on each store: `describe("<title>: sqlite")` on a temp SQLite file, then, inside
 * `describe("postgres")`, `describe("<title>: postgres")` on a fresh PostgreSQL schema named after `schemaPrefix`
 * (dropped afterwards). The PostgreSQL run skips when the server is down, unless REQUIRE_POSTGRES=1.
 */
export function forEachStore(title: string, schemaPrefix: string, tests: StoreTests): void {
  describeOnStore(title, 'sqlite', openSqlite, tests);
  describe.skipIf(!pgUp)('postgres', () => {
    describeOnStore(title, 'postgres', () => openPostgres(schemaPrefix), tests);
  });
}
