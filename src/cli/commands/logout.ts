/** `webex-auth logout`: remove a local connection, and say plainly what that does not do at Webex. */
import { plainText } from '../../vault/audit.js';
import { VaultError } from '../../vault/types.js';
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
  usage: 'logout [--connection <id|email>] [--revoke] [--json]',
  flags: { ...CONNECTION_FLAG, ...JSON_FLAG, revoke: { type: 'boolean' } },
  help: {
    ...CONNECTION_HELP,
    ...JSON_HELP,
    revoke:
      'Also delete the grant at Webex, through a connected admin of the person’s org (identity:tokens_read and identity:tokens_write)',
  },
  details: [
    'This deletes the token pair from the local store only. Webex offers no self-service revocation endpoint:',
    `the tokens stay valid until they expire unless the person revokes them at ${IDBROKER_TOKENS_PAGE}`,
    'or an org admin deletes them with the Authorizations API (DELETE /v1/authorizations?clientId=…).',
    'With --revoke, webex-auth does that itself through a connected admin of the org (else it says what is missing,',
    'and keeps the connection).',
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
      // --revoke: the grant goes at Webex first; when it cannot, nothing is removed and the message says why.
      let revoked: { deleted: number } | undefined;
      if (args.values.revoke === true) {
        try {
          revoked = await vault.connections.revokeAtWebex(connection.id);
        } catch (err) {
          if (err instanceof VaultError && err.code === 'conflict') {
            throw new CliError(`${err.message} The connection was kept.`, EXIT.failure);
          }
          throw err;
        }
      }
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
      return { connection, clientId: integration?.clientId, revoked };
    });
    const { connection, clientId, revoked } = removed;
    out.success(
      `Removed the connection of ${terminalSafe(connection.displayName)}${connection.personEmail ? ` <${terminalSafe(connection.personEmail)}>` : ''}`,
    );
    if (revoked) {
      out.success(
        `Revoked the grant at Webex (${revoked.deleted} authorization${revoked.deleted === 1 ? '' : 's'} deleted): its tokens no longer work`,
      );
    } else {
      out.warn('Webex has no self-service token revocation: the removed tokens stay valid until they expire.');
      out.info(`  To revoke them now, the person can use ${IDBROKER_TOKENS_PAGE}`);
      out.info(
        `  or an org admin can call DELETE /v1/authorizations?clientId=${clientId ?? '<client id>'} (scope identity:tokens_write),`,
      );
      out.info('  or run `webex-auth logout --revoke` with such an admin connected.');
    }
    out.data(
      {
        removed: connection.id,
        revokedAtWebex: revoked !== undefined,
        ...(revoked ? { deletedAuthorizations: revoked.deleted } : { revokeAt: IDBROKER_TOKENS_PAGE }),
      },
      () => '',
    );
    return EXIT.ok;
  },
};

export default command;
