/** `webex-auth refresh`: refresh a connection's access token now (single flight across processes). */
import type { Command } from '../command.js';
import { CONNECTION_FLAG, CONNECTION_HELP, loadCliConfig, resolveConnection, withVault } from '../context.js';
import { EXIT } from '../io.js';
import { connectionJson } from '../ui/connection.js';
import { formatCountdown } from '../ui/format.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';

const command: Command = {
  summary: "Refresh a connection's access token now",
  usage: 'refresh [--connection <id|email>] [--json]',
  flags: { ...CONNECTION_FLAG, ...JSON_FLAG },
  help: { ...CONNECTION_HELP, ...JSON_HELP },
  details:
    'Webex keeps the old access token valid after a refresh and caps live tokens per person, so refresh only when\nneeded; `webex-auth token` refreshes by itself when the token is about to expire.',
  async run(args, io) {
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const refreshed = await withVault(config, async (vault) => {
      const connection = await resolveConnection(vault, args.values.connection);
      return vault.connections.refresh(connection.id);
    });
    out.success(
      `Refreshed ${refreshed.displayName}'s access token; it expires ${formatCountdown(refreshed.accessExpiresAt, Date.now())}`,
    );
    out.data(connectionJson(refreshed), () => '');
    return EXIT.ok;
  },
};

export default command;
