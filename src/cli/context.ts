/**
 * What most commands start with: the configuration (env, `.env`, flags), the shared vault (the same store the web app
 * uses), and the connection the command is about (`--connection <id|email>`, else the only or most recent one).
 * Only commands that work on connections import this module (each command is loaded on demand), so the configuration
 * and the vault are imported statically here: one chunk of the bundled bin instead of several small ones.
 */
import { type Config, loadConfig, type Settings } from '../config.js';
import type { Connection, Vault } from '../vault/types.js';
// vault.js, not the index: the index re-exports the PostgreSQL store, whose driver (pg) costs ~90 ms at start-up.
import { openVault } from '../vault/vault.js';
import { CliError, type CommandIO, EXIT } from './io.js';

/** Flag overrides, by setting name. */
export type Overrides = Partial<Record<keyof Settings, string | undefined>>;

/** Loads the configuration as every command does: flags over environment over `.env` in the working directory. */
export async function loadCliConfig(io: CommandIO, overrides: Overrides = {}): Promise<Config> {
  return loadConfig({ env: io.env, dotenvDir: io.cwd, overrides });
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
  if (options.quiet) return openVault(config, oneShot);
  const { createLogger } = await import('../log.js');
  // The CLI's stdout is data: vault logs go to stderr, and only warnings unless LOG_LEVEL says otherwise.
  const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
  return openVault(config, { ...oneShot, logger: createLogger({ level, name: 'webex-auth' }) });
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
  connection: 'Connection id or person email (default: the only or most recently used connection)',
} as const;

/**
 * Picks the connection a command is about. `wanted` matches a connection id exactly or a person's email
 * (case-insensitive); without it, the only connection, else the most recently updated one.
 * @throws {CliError} exit 4 when there is none to pick, exit 1 when `wanted` matches none.
 */
export function pickConnection(connections: Connection[], wanted: string | undefined): Connection {
  if (connections.length === 0) {
    throw new CliError('no connection yet', EXIT.authNeeded, 'Run `webex-auth login` to connect a Webex account.');
  }
  if (wanted === undefined || wanted === '') {
    return [...connections].sort((a, b) => b.updatedAt - a.updatedAt)[0] as Connection;
  }
  const byId = connections.find((c) => c.id === wanted);
  if (byId) return byId;
  const email = wanted.toLowerCase();
  const byEmail = connections
    .filter((c) => [c.personEmail, ...c.person.emails].some((e) => e.toLowerCase() === email))
    .sort((a, b) => b.updatedAt - a.updatedAt);
  if (byEmail[0]) return byEmail[0];
  throw new CliError(
    `no connection matches "${wanted.slice(0, 100)}"`,
    EXIT.failure,
    'Run `webex-auth list` to see the connections.',
  );
}

/** Loads the connections and picks one (see {@link pickConnection}). */
export async function resolveConnection(vault: Vault, wanted: unknown): Promise<Connection> {
  return pickConnection(await vault.connections.list(), typeof wanted === 'string' ? wanted : undefined);
}
