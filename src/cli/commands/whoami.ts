/** `webex-auth whoami`: the person a connection acts as, checked live with `GET /people/me`. */
import type { Command } from '../command.js';
import { CONNECTION_FLAG, CONNECTION_HELP, loadCliConfig, resolveConnection, withVault } from '../context.js';
import { EXIT } from '../io.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe as safe } from '../ui/terminal-safe.js';

const command: Command = {
  summary: 'Show who a connection acts as (a live people/me call)',
  usage: 'whoami [--connection <id|email>] [--json]',
  flags: { ...CONNECTION_FLAG, ...JSON_FLAG },
  help: { ...CONNECTION_HELP, ...JSON_HELP },
  async run(args, io) {
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const { person, connection, live } = await withVault(config, async (vault) => {
      const connection = await resolveConnection(vault, args.values.connection);
      const fresh = await vault.connections.getFreshToken(connection.id, 60);
      const integration = await vault.integrations.get(connection.integrationId);
      const { WebexClient } = await import('../../webex/client.js');
      const client = new WebexClient({
        apiBase: integration?.apiBase ?? config.apiBase,
        accessToken: fresh.accessToken,
      });
      try {
        return { person: await client.peopleMe(), connection, live: true };
      } catch (error) {
        // Without spark:people_read Webex refuses people/me (403): show who the connection was stored for instead.
        if ((error as { status?: number }).status !== 403) throw error;
        const person = {
          id: connection.personId,
          emails: connection.person.emails,
          displayName: connection.displayName,
        };
        return { person, connection, live: false };
      }
    });
    if (!live) out.warn('Webex refused people/me (no spark:people_read): showing the person stored at login.');
    out.data({ connectionId: connection.id, person, live }, () => {
      const lines = [
        `${out.out.bold(safe(person.displayName))}${person.emails[0] ? ` <${safe(person.emails[0])}>` : ''}`,
        `  person id:   ${safe(person.id)}`,
        ...('orgId' in person && person.orgId ? [`  org id:      ${safe(String(person.orgId))}`] : []),
        ...('type' in person && person.type ? [`  type:        ${safe(String(person.type))}`] : []),
        `  connection:  ${connection.id}`,
      ];
      return `${lines.join('\n')}\n`;
    });
    return EXIT.ok;
  },
};

export default command;
