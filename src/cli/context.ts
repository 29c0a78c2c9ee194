/**
 * What most commands start with: the configuration (env, `.env`, flags), the shared vault (the same store the web app
 * uses), and the connection the command is about (`--connection <id|email>`, else `WEBEX_AUTH_CONNECTION`, else the
 * only or most recent one of the local operator: the store may be shared with a team server, whose members'
 * connections are never picked by default).
 * Only commands that work on connections import this module (each command is loaded on demand), so the configuration
 * is imported statically here; the full vault when one is opened, so that `token` with a fresh cached token runs only
 * the one-shot reader (vault/token-reader.ts).
 */
import { type Config, loadConfig, type Settings } from '../config.js';
import { openTokenReader, type TokenReader } from '../vault/token-reader.js';
// types.js is already part of every vault chunk (vault.js imports its error class): no new module at start-up.
import { type Connection, LOCAL_OPERATOR, type Vault } from '../vault/types.js';
import { CliError, type CommandIO, EXIT } from './io.js';
import { terminalSafe } from './ui/terminal-safe.js';

/** Flag overrides, by setting name. */
export type Overrides = Partial<Record<keyof Settings, string | undefined>>;

/** The environment variable that names the default connection, as `--connection` does (the flag wins). */
export const CONNECTION_ENV = 'WEBEX_AUTH_CONNECTION';

/**
 * The connection `WEBEX_AUTH_CONNECTION` names, carried from the environment a configuration was loaded from to the
 * vault opened with it, so that every command's `resolveConnection(vault, flag)` honours it without a new parameter.
 * (A CLI setting, not a server one: it is read from `io.env` here, not added to the server's configuration.)
 */
const envConnection = new WeakMap<object, string>();

/** Loads the configuration as every command does: flags over environment over `.env` in the working directory. */
export async function loadCliConfig(io: CommandIO, overrides: Overrides = {}): Promise<Config> {
  const config = await loadConfig({ env: io.env, dotenvDir: io.cwd, overrides });
  const named = io.env[CONNECTION_ENV]?.trim();
  if (named) envConnection.set(config, named);
  return config;
}

/** Options of {@link openCliVault}. */
export interface OpenCliVaultOptions {
  /** Skip creating a logger (pino costs start-up time that `token` cannot afford). */
  quiet?: boolean;
}

/** Opens the vault of `config`; the caller closes it. */
export async function openCliVault(config: Config, options: OpenCliVaultOptions = {}): Promise<Vault> {
  // A command is one short process: it has no use for the change-notification connection PostgreSQL caches need.
  const oneShot = { watchChanges: false };
  // Imported when opened, so `token` runs none of the full vault's module code while its cached token is fresh (the
  // token reader's path). vault.js, not the index: the index re-exports the PostgreSQL store (pg costs ~90 ms).
  const { openVault } = await import('../vault/vault.js');
  let vault: Vault;
  if (options.quiet) vault = await openVault(config, oneShot);
  else {
    const { createLogger } = await import('../log.js');
    // The CLI's stdout is data: vault logs go to stderr, and only warnings unless LOG_LEVEL says otherwise.
    const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
    vault = await openVault(config, { ...oneShot, logger: createLogger({ level, name: 'webex-auth' }) });
  }
  const named = envConnection.get(config);
  if (named) envConnection.set(vault, named);
  return vault;
}

/** The `--connection` flag's value when one was given. */
const flagValue = (wanted: unknown): string | undefined =>
  typeof wanted === 'string' && wanted !== '' ? wanted : undefined;

/**
 * Opens the one-shot {@link TokenReader} of `config` (undefined where only the full vault serves: PostgreSQL), which
 * {@link resolveConnection} takes as it takes a vault, for the connection `wanted` (the `--connection` flag) or else
 * WEBEX_AUTH_CONNECTION names. The caller closes it.
 */
export async function openCliTokenReader(config: Config, wanted?: unknown): Promise<TokenReader | undefined> {
  const named = envConnection.get(config);
  const reader = await openTokenReader(config, Date.now, flagValue(wanted) ?? named);
  if (reader && named) envConnection.set(reader, named);
  return reader;
}

/** Runs `fn` with an open vault and closes it afterwards, also on error. */
export async function withVault<T>(
  config: Config,
  fn: (vault: Vault) => Promise<T>,
  options: OpenCliVaultOptions = {},
): Promise<T> {
  const vault = await openCliVault(config, options);
  try {
    return await fn(vault);
  } finally {
    await vault.close();
  }
}

/** The flag every per-connection command takes. */
export const CONNECTION_FLAG = { connection: { type: 'string', short: 'c' } } as const;
/** Help of {@link CONNECTION_FLAG}. */
export const CONNECTION_HELP = {
  connection:
    "Connection id or person email (default: WEBEX_AUTH_CONNECTION, else the local operator's only or most recently used connection)",
} as const;

/** The connections the CLI may pick by default: the local operator's (a team server's members own the others). */
export function localConnections(connections: Connection[]): Connection[] {
  return connections.filter((c) => c.ownerId === LOCAL_OPERATOR);
}

/**
 * Picks the connection a command is about. `wanted` matches a connection id exactly or a person's email
 * (case-insensitive) among every connection — the CLI holds the key ring, it is the operator — preferring the local
 * operator's when an email matches connections of several owners. Without `wanted`, the local operator's only
 * connection, else its most recently updated one: never a connection a team member authorized on the web.
 * `from` names where `wanted` came from, for the error (the flag by default).
 * @throws {CliError} exit 4 when there is none to pick, exit 1 when `wanted` matches none.
 */
export function pickConnection(
  connections: Connection[],
  wanted: string | undefined,
  from: '--connection' | typeof CONNECTION_ENV = '--connection',
): Connection {
  if (connections.length === 0) {
    throw new CliError('no connection yet', EXIT.authNeeded, 'Run `webex-auth login` to connect a Webex account.');
  }
  const recentFirst = (a: Connection, b: Connection) => b.updatedAt - a.updatedAt;
  if (wanted === undefined || wanted === '') {
    const local = localConnections(connections).sort(recentFirst);
    if (local[0]) return local[0];
    const n = connections.length;
    const others =
      n === 1 ? 'one connection of another owner is stored' : `${n} connections of other owners are stored`;
    throw new CliError(
      `no connection of the local operator (${others})`,
      EXIT.authNeeded,
      'Pass `--connection <id|email>` to use one of them (see `webex-auth list`), or run `webex-auth login`.',
    );
  }
  const byId = connections.find((c) => c.id === wanted);
  if (byId) return byId;
  const email = wanted.toLowerCase();
  const localFirst = (a: Connection, b: Connection) =>
    Number(b.ownerId === LOCAL_OPERATOR) - Number(a.ownerId === LOCAL_OPERATOR) || recentFirst(a, b);
  const byEmail = connections
    .filter((c) => [c.personEmail, ...c.person.emails].some((e) => e.toLowerCase() === email))
    .sort(localFirst);
  if (byEmail[0]) return byEmail[0];
  const source = from === CONNECTION_ENV ? ` (from ${CONNECTION_ENV})` : '';
  throw new CliError(
    `no connection matches "${terminalSafe(wanted.slice(0, 100))}"${source}`,
    EXIT.failure,
    from === CONNECTION_ENV
      ? `Set ${CONNECTION_ENV} to an id or email from \`webex-auth list\`, or unset it.`
      : 'Run `webex-auth list` to see the connections.',
  );
}

/**
 * Loads the connections and picks one (see {@link pickConnection}): `wanted` (the `--connection` flag) when given,
 * else the `WEBEX_AUTH_CONNECTION` of the environment the vault's configuration was loaded from.
 */
export async function resolveConnection(
  vault: { readonly connections: { list(): Promise<Connection[]> } },
  wanted: unknown,
): Promise<Connection> {
  const flag = flagValue(wanted);
  const named = flag === undefined ? envConnection.get(vault) : undefined;
  return pickConnection(await vault.connections.list(), flag ?? named, named ? CONNECTION_ENV : '--connection');
}
