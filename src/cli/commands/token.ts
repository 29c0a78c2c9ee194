/**
 * `webex-auth token`: prints only a fresh access token, for `$(webex-auth token)`. This file and what it imports
 * at the top are kept tiny: the configuration and the vault load on demand, nothing of the server or emulator.
 */

import { type Config, SETTING_NAMES } from '../../config.js';
import type { FreshToken } from '../../vault/types.js';
import type { Command } from '../command.js';
import {
  CONNECTION_ENV,
  CONNECTION_FLAG,
  CONNECTION_HELP,
  loadCliConfig,
  openCliTokenReader,
  resolveConnection,
  withVault,
} from '../context.js';
import * as hotToken from '../hot-token.js';
import { CliError, type CommandIO, EXIT } from '../io.js';
import { JSON_FLAG, JSON_HELP } from '../ui/output.js';

const command: Command = {
  summary: 'Print a fresh access token (refreshing it first if needed)',
  usage: 'token [--connection <id|email>] [--min-validity <seconds>] [--json]',
  flags: { ...CONNECTION_FLAG, 'min-validity': { type: 'string' }, ...JSON_FLAG },
  help: {
    ...CONNECTION_HELP,
    'min-validity': 'Refresh first unless the token is valid for at least this many seconds (default 60)',
    ...JSON_HELP,
  },
  details: 'Example:\n  curl -H "Authorization: Bearer $(webex-auth token)" https://webexapis.com/v1/people/me',
  async run(args, io) {
    const raw = args.values['min-validity'];
    const minValidity = raw === undefined ? 60 : Number(raw);
    if (!/^\d+$/.test(String(raw ?? '60')) || minValidity > 14 * 86_400) {
      throw new CliError(
        `invalid --min-validity "${String(raw).slice(0, 20)}": expected seconds`,
        EXIT.usage,
        'Give whole seconds up to 14 days, e.g. --min-validity 300.',
      );
    }
    // A plain `webex-auth token` (what the bin's hot path serves) remembers its answer in the hot-token file, named
    // after the `.env` read here, before the configuration reads it.
    const plain = args.values.connection === undefined && raw === undefined && args.values.json === undefined;
    const hotFile = plain ? hotToken.hotTokenFile(io.env, io.cwd) : undefined;
    const config = await loadCliConfig(io);
    const fresh =
      (await cachedToken(config, args.values.connection, minValidity, plain ? { io, hotFile } : undefined)) ??
      (await withVault(
        config,
        async (vault) => {
          const connection = await resolveConnection(vault, args.values.connection);
          return vault.connections.getFreshToken(connection.id, minValidity);
        },
        { quiet: true },
      ));
    if (args.values.json === true) {
      const body = {
        access_token: fresh.accessToken,
        expires_at: new Date(fresh.expiresAt).toISOString(),
        scopes: fresh.scopes,
        person: fresh.person,
      };
      io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    } else {
      io.stdout.write(`${fresh.accessToken}\n`);
    }
    return EXIT.ok;
  },
};

/** The environment variables the answer of a plain `token` depends on (the hot-token file is bound to their values). */
const HOT_NAMES = [...SETTING_NAMES, 'HOME', CONNECTION_ENV];

/**
 * The stored token when it is fresh enough, read without the full vault (vault/token-reader.ts); undefined when a
 * refresh (or anything else) needs the vault. Any failure here is left to the vault too, which answers it exactly as
 * before — the reader only reads, so nothing is done twice.
 */
async function cachedToken(
  config: Config,
  wanted: unknown,
  minValidity: number,
  hotFor?: { io: CommandIO; hotFile: string | undefined },
): Promise<FreshToken | undefined> {
  // Stamped before the store opens: an answer is remembered only if no one wrote the store meanwhile (hot-token.ts).
  const hot =
    hotFor?.hotFile !== undefined && !config.databaseUrl
      ? hotToken.watchStore(
          config.dbPath,
          config.keys,
          HOT_NAMES,
          hotFor.io.env,
          hotFor.io.cwd,
          Date.now,
          hotFor.hotFile,
        )
      : undefined;
  const reader = await openCliTokenReader(config, wanted).catch(() => undefined);
  if (!reader) return undefined;
  let fresh: FreshToken | undefined;
  try {
    const connection = await resolveConnection(reader, wanted);
    fresh = await reader.freshToken(connection.id, minValidity);
    return fresh;
  } catch {
    return undefined;
  } finally {
    await reader.close().catch(() => {});
    if (fresh) hot?.remember(fresh.accessToken, fresh.expiresAt);
    else if (hotFor) hotToken.forgetHotToken(hotFor.io.env, hotFor.io.cwd);
  }
}

export default command;
