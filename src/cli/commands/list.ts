/** `webex-auth list`: one line per connection, with its owner (the local operator or a team member). */
import type { Command } from '../command.js';
import { loadCliConfig, withVault } from '../context.js';
import { EXIT } from '../io.js';
import { connectionJson, ownerEmails, ownerText } from '../ui/connection.js';
import { formatExpiry, stripAnsi, table } from '../ui/format.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe } from '../ui/terminal-safe.js';

const command: Command = {
  summary: 'List the stored connections',
  usage: 'list [--json]',
  flags: { ...JSON_FLAG },
  help: { ...JSON_HELP },
  async run(args, io) {
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const { list, owners } = await withVault(config, async (vault) => {
      const list = await vault.connections.list();
      return {
        list,
        owners: await ownerEmails(
          vault,
          list.map((c) => c.ownerId),
        ),
      };
    });
    list.sort((a, b) => b.updatedAt - a.updatedAt);
    const now = Date.now();
    out.data(
      list.map((c) => connectionJson(c, owners)),
      () =>
        list.length === 0
          ? ''
          : table(
              [
                ['ID', 'KIND', 'PERSON', 'EMAIL', 'STATUS', 'REFRESH TOKEN', 'OWNER'].map((h) => out.out.bold(h)),
                ...list.map((c) => [
                  c.id,
                  c.kind ?? 'integration',
                  terminalSafe(c.displayName),
                  terminalSafe(c.personEmail),
                  c.status === 'needs_reauth' ? out.out.red(c.status) : c.status,
                  formatExpiry(c.refreshExpiresAt, now),
                  ownerText(c.ownerId, owners),
                ]),
              ],
              (s) => stripAnsi(s).length,
            ),
    );
    if (list.length === 0) out.info('No connections yet. Run `webex-auth login` to connect a Webex account.');
    return EXIT.ok;
  },
};

export default command;
