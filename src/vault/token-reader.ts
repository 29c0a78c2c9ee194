/**
 * The one-shot read of `webex-auth token`: the store and the key ring, and nothing else of the vault — no refresher,
 * webhooks, identities, schedule, caches, proxy-call log or audit (vault.ts wires those, and the command's bundle
 * runs none of their module code on this path). It serves a stored access token only when it is plainly fresh enough;
 * everything else (a refresh, a connection that needs re-authorization, a wrong key ring, PostgreSQL) is left to the
 * full vault, so the answer is always the one `vault.connections.getFreshToken` would give.
 * The SQLite store is opened as the vault opens it, migrations included: a store that needs one gets it here too.
 */
import type { Config } from '../config.js';
import { resolveKeys } from './crypto/dev-key.js';
import type { KeyRing } from './crypto/keyring.js';
import { freshTokenOf } from './fresh-token.js';
import { connectionOf } from './records.js';
import { accessSlot } from './slots.js';
import { listOrder } from './store/pages.js';
import type { ConnectionRow, Store } from './store/types.js';
import { type Connection, type FreshToken, LOCAL_OPERATOR } from './types.js';

/**
 * Up to this many stored connections, `list()` reads them all, as the vault lists them: any `--connection` is picked
 * here. Beyond, it reads the local operator's most recently updated connection — the one picked without
 * `--connection` — and the connection whose id is the one asked for, if any; a `--connection` naming another by email
 * is left to the full vault. Either way a `token` reads at most this many rows plus three, whatever the store holds.
 */
const WHOLE_LIST_MAX = 50;

/** What {@link openTokenReader} opens: read-only access to the connections and their stored access tokens. */
export interface TokenReader {
  /**
   * The stored connections as `vault.connections` lists them, when there are at most a few; else the one the CLI
   * picks by default (see `WHOLE_LIST_MAX`).
   */
  readonly connections: { list(): Promise<Connection[]> };
  /**
   * The access token of connection `id` when it stays valid for at least `minValiditySeconds` — what
   * `getFreshToken` would serve without a refresh — else undefined: the caller asks the full vault, which refreshes.
   */
  freshToken(id: string, minValiditySeconds: number): Promise<FreshToken | undefined>;
  /** Closes the store. */
  close(): Promise<void>;
}

/**
 * Opens a {@link TokenReader} on the SQLite store of `config`; undefined for PostgreSQL (its driver's start-up dwarfs
 * what this saves: the full vault serves it). Throws what opening the store or the key ring throws.
 */
export async function openTokenReader(
  config: Config,
  clock: () => number = Date.now,
  /** The connection the command names (`--connection` or WEBEX_AUTH_CONNECTION), id or email. */
  wanted?: string,
): Promise<TokenReader | undefined> {
  if (config.databaseUrl) return undefined;
  const store: Store = await (await import('./store/sqlite.js')).openSqliteStore(config.dbPath);
  let ring: KeyRing;
  try {
    ring = (await resolveKeys(config, { storeHasSecrets: async () => (await store.listIntegrations()).length > 0 }))
      .ring;
  } catch (err) {
    await store.close();
    throw err;
  }
  // Rows read by list(), so that serving the picked connection reads nothing more.
  const listed = new Map<string, ConnectionRow>();
  /** Beyond WHOLE_LIST_MAX: the default pick, and the connection `wanted` names by id (in listing order). */
  const namedOrLatest = async (): Promise<ConnectionRow[]> => {
    const [latest] = await store.latestConnections(LOCAL_OPERATOR, 1);
    const named = wanted && wanted !== latest?.id ? await store.getConnection(wanted) : undefined;
    return [latest, named].filter((r): r is ConnectionRow => r !== undefined).sort(listOrder);
  };
  return {
    connections: {
      async list() {
        const first = await store.pageConnections({ after: undefined, limit: WHOLE_LIST_MAX + 1 });
        const rows = first.length <= WHOLE_LIST_MAX ? first.sort(listOrder) : await namedOrLatest();
        for (const row of rows) listed.set(row.id, row);
        return rows.map(connectionOf);
      },
    },
    async freshToken(id, minValiditySeconds) {
      const row = listed.get(id) ?? (await store.getConnection(id));
      if (row?.status !== 'active' || row.accessExpiresAt - clock() < minValiditySeconds * 1000) return undefined;
      return freshTokenOf(row, ring.decrypt(row.accessTokenEnc, accessSlot(row.id)), true);
    },
    close: () => store.close(),
  };
}
