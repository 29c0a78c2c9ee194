/**
 * `webex-auth export --format env|json|curl`: a connection's token pair for other tools. Tokens are printed in clear
 * when stdout is a file or pipe (that is the point of exporting); on a terminal they are masked unless `--show-tokens`.
 */
import type { Command } from '../command.js';
import { CONNECTION_FLAG, CONNECTION_HELP, loadCliConfig, resolveConnection, withVault } from '../context.js';
import { CliError, EXIT } from '../io.js';
import { maskToken } from '../ui/format.js';
import { createOutput } from '../ui/output.js';

/** Single-quotes a value for POSIX shells. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const command: Command = {
  summary: "Export a connection's token pair as env lines, JSON or a curl command",
  usage: 'export [--format env|json|curl] [--connection <id|email>] [--show-tokens]',
  flags: { format: { type: 'string', short: 'f' }, ...CONNECTION_FLAG, 'show-tokens': { type: 'boolean' } },
  help: {
    format: 'env (default), json, or curl',
    ...CONNECTION_HELP,
    'show-tokens': 'Print the tokens in clear on a terminal too (always in clear into a pipe or file)',
  },
  details: 'Examples:\n  eval "$(webex-auth export)"\n  webex-auth export --format json > tokens.json',
  async run(args, io) {
    const format = (args.values.format as string | undefined) ?? 'env';
    if (!['env', 'json', 'curl'].includes(format)) {
      throw new CliError(`unknown format "${format.slice(0, 20)}"`, EXIT.usage, 'Use --format env, json or curl.');
    }
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const { connection, tokens, integration } = await withVault(config, async (vault) => {
      const connection = await resolveConnection(vault, args.values.connection);
      // Export what will work: refresh first if the access token has under a minute left.
      await vault.connections.getFreshToken(connection.id, 60);
      const tokens = await vault.connections.revealTokens(connection.id);
      const integration = await vault.integrations.get(connection.integrationId);
      return { connection: (await vault.connections.get(connection.id)) ?? connection, tokens, integration };
    });
    if (!tokens) throw new CliError('the connection has no tokens', EXIT.authNeeded, 'Run `webex-auth login`.');
    const clear = out.showTokens || !io.stdoutIsTTY;
    const show = (t: string) => (clear ? t : maskToken(t));
    const apiBase = integration?.apiBase ?? config.apiBase;
    const iso = (ms: number) => new Date(ms).toISOString();
    if (format === 'json') {
      out.raw(
        `${JSON.stringify(
          {
            access_token: show(tokens.accessToken),
            refresh_token: show(tokens.refreshToken),
            token_type: 'Bearer',
            expires_at: iso(tokens.expiresAt),
            refresh_token_expires_at: iso(tokens.refreshExpiresAt),
            scope: connection.scopes.join(' '),
            client_id: integration?.clientId,
            api_base: apiBase,
            person: { id: connection.personId, email: connection.personEmail, displayName: connection.displayName },
          },
          null,
          2,
        )}\n`,
      );
    } else if (format === 'env') {
      out.raw(
        [
          `WEBEX_ACCESS_TOKEN=${shellQuote(show(tokens.accessToken))}`,
          `WEBEX_REFRESH_TOKEN=${shellQuote(show(tokens.refreshToken))}`,
          `WEBEX_ACCESS_TOKEN_EXPIRES_AT=${shellQuote(iso(tokens.expiresAt))}`,
          `WEBEX_REFRESH_TOKEN_EXPIRES_AT=${shellQuote(iso(tokens.refreshExpiresAt))}`,
          `WEBEX_API_BASE=${shellQuote(apiBase)}`,
          '',
        ].join('\n'),
      );
    } else {
      out.raw(
        `curl -H ${shellQuote(`Authorization: Bearer ${show(tokens.accessToken)}`)} ${shellQuote(`${apiBase}/people/me`)}\n`,
      );
    }
    if (!clear) out.warn('Tokens are masked on a terminal; add --show-tokens, or redirect to a file or pipe.');
    return EXIT.ok;
  },
};

export default command;
