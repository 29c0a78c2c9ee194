/** `webex-auth logout`: remove a local connection, and say plainly what that does not do at Webex. */
import { plainText } from '../../vault/audit.js';
import { recordCliAudit } from '../audit.js';
import type { Command } from '../command.js';
import {
  CONNECTION_FLAG,
  CONNECTION_HELP,
  loadCliConfig,
  localConnections,
  resolveConnection,
  withVault,
} from '../context.js';
import { CliError, EXIT } from '../io.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe } from '../ui/terminal-safe.js';

/** Where a person can revoke their own Webex tokens (docs/webex-api.md "Tokens"). */
export const IDBROKER_TOKENS_PAGE = 'https://idbroker.webex.com/idb/profile#/tokens';

const command: Command = {
  summary: 'Remove a stored connection (Webex has no self-service revocation)',
  usage: 'logout [--connection <id|email>] [--json]',
  flags: { ...CONNECTION_FLAG, ...JSON_FLAG },
  help: { ...CONNECTION_HELP, ...JSON_HELP },
  details: [
    'This deletes the token pair from the local store only. Webex offers no self-service revocation endpoint:',
    `the tokens stay valid until they expire unless the person revokes them at ${IDBROKER_TOKENS_PAGE}`,
    'or an org admin deletes them with the Authorizations API (DELETE /v1/authorizations?clientId=…).',
  ].join('\n'),
  async run(args, io) {
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const removed = await withVault(config, async (vault) => {
      // Without --connection the default is the local operator's connection: ask only when it has several.
      const own = localConnections(await vault.connections.list());
      if (own.length > 1 && typeof args.values.connection !== 'string') {
        throw new CliError(
          `${own.length} connections of the local operator are stored; say which one to remove`,
          EXIT.usage,
          'Run `webex-auth logout --connection <id|email>` (see `webex-auth list`).',
        );
      }
      const connection = await resolveConnection(vault, args.values.connection);
      const integration = await vault.integrations.get(connection.integrationId);
      await vault.connections.delete(connection.id);
      // The delete stands whatever happens to its audit entry.
      await recordCliAudit(
        vault,
        {
          action: 'connection.delete',
          ownerId: connection.ownerId,
          target: connection.id,
          detail: plainText(
            `${terminalSafe(connection.displayName)}${connection.personEmail ? ` <${terminalSafe(connection.personEmail)}>` : ''}`,
            200,
          ),
        },
        (line) => out.warn(line),
      );
      return { connection, clientId: integration?.clientId };
    });
    const { connection, clientId } = removed;
    out.success(
      `Removed the connection of ${terminalSafe(connection.displayName)}${connection.personEmail ? ` <${terminalSafe(connection.personEmail)}>` : ''}`,
    );
    out.warn('Webex has no self-service token revocation: the removed tokens stay valid until they expire.');
    out.info(`  To revoke them now, the person can use ${IDBROKER_TOKENS_PAGE}`);
    out.info(
      `  or an org admin can call DELETE /v1/authorizations?clientId=${clientId ?? '<client id>'} (scope identity:tokens_write).`,
    );
    out.data({ removed: connection.id, revokedAtWebex: false, revokeAt: IDBROKER_TOKENS_PAGE }, () => '');
    return EXIT.ok;
  },
};

export default command;
