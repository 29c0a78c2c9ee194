/** `webex-auth status`: every connection with its owner, status and expiry countdowns. */
import type { Command } from '../command.js';
import { loadCliConfig, withVault } from '../context.js';
import { EXIT } from '../io.js';
import { connectionBlock, connectionJson, ownerEmails } from '../ui/connection.js';
import { lifecycleJson, lifecycleLines } from '../ui/lifecycle.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';

const command: Command = {
  summary: 'Show every connection: status, expiry countdowns, scopes',
  usage: 'status [--json] [--show-tokens] [--history]',
  flags: { ...JSON_FLAG, 'show-tokens': { type: 'boolean' }, history: { type: 'boolean' } },
  help: {
    ...JSON_HELP,
    'show-tokens': 'Show the tokens in clear (masked by default)',
    history: 'Also show each connection’s refresh history (newest first)',
  },
  details: 'Exit code 4 when a connection needs re-authorization (run `webex-auth login` again for it).',
  async run(args, io) {
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const now = Date.now();
    const { rows, owners } = await withVault(config, async (vault) => {
      const list = (await vault.connections.list()).sort((a, b) => b.updatedAt - a.updatedAt);
      const rows = await Promise.all(
        list.map(async (c) => {
          const revealed = out.showTokens ? await vault.connections.revealTokens(c.id) : undefined;
          const cap = await vault.connections.tokenCap(c.id, c.person.id);
          const history = args.values.history === true ? await vault.connections.history(c.id) : undefined;
          return { c, revealed, cap, history };
        }),
      );
      return {
        rows,
        owners: await ownerEmails(
          vault,
          list.map((c) => c.ownerId),
        ),
      };
    });
    out.data(
      {
        store: config.databaseUrl ? 'postgres' : config.dbPath,
        connections: rows.map(({ c, revealed, cap, history }) => ({
          ...connectionJson(c, owners),
          ...(revealed ? { accessToken: revealed.accessToken, refreshToken: revealed.refreshToken } : {}),
          ...lifecycleJson(c, cap, history),
        })),
      },
      () =>
        rows.length === 0
          ? ''
          : rows
              .map(
                ({ c, revealed, cap, history }) =>
                  connectionBlock(
                    c,
                    now,
                    out.out,
                    revealed ? { access: revealed.accessToken, refresh: revealed.refreshToken } : undefined,
                    owners,
                  ) + lifecycleLines(c, cap, history, now),
              )
              .join('\n'),
    );
    if (rows.length === 0) out.info('No connections yet. Run `webex-auth login` to connect a Webex account.');
    else if (!out.showTokens && !out.json)
      out.info(out.err.dim('Tokens are not shown; use --show-tokens or `webex-auth export`.'));
    const reauth = rows.some(({ c }) => c.status === 'needs_reauth');
    return reauth ? EXIT.authNeeded : EXIT.ok;
  },
};

export default command;
