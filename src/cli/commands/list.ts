/** `webex-auth list`: one line per connection. */
import type { Command } from '../command.js';
import { loadCliConfig, withVault } from '../context.js';
import { EXIT } from '../io.js';
import { connectionJson } from '../ui/connection.js';
import { formatCountdown, stripAnsi, table } from '../ui/format.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';

const command: Command = {
  summary: 'List the stored connections',
  usage: 'list [--json]',
  flags: { ...JSON_FLAG },
  help: { ...JSON_HELP },
  async run(args, io) {
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const list = await withVault(config, async (vault) => vault.connections.list());
    list.sort((a, b) => b.updatedAt - a.updatedAt);
    const now = Date.now();
    out.data(list.map(connectionJson), () =>
      list.length === 0
        ? ''
        : table(
            [
              ['ID', 'PERSON', 'EMAIL', 'STATUS', 'REFRESH TOKEN'].map((h) => out.out.bold(h)),
              ...list.map((c) => [
                c.id,
                c.displayName,
                c.personEmail,
                c.status === 'needs_reauth' ? out.out.red(c.status) : c.status,
                `expires ${formatCountdown(c.refreshExpiresAt, now)}`,
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
