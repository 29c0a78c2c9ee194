/**
 * `webex-auth refresh`: refresh a connection's access token now (single flight across processes). A forced refresh:
 * at most one per connection per FORCED_REFRESH_MIN_INTERVAL seconds, whoever asks (this command, the broker, the web
 * app); inside that interval it says when one can run again and exits 1.
 */
import type { Config } from '../../config.js';
import { isWebexAuthError } from '../../errors.js';
import { isTokenCapError } from '../../vault/cap.js';
import type { AuditAction, Connection, Vault } from '../../vault/types.js';
import { recordCliAudit } from '../audit.js';
import type { Command } from '../command.js';
import { CONNECTION_FLAG, CONNECTION_HELP, loadCliConfig, resolveConnection, withVault } from '../context.js';
import { CliError, EXIT } from '../io.js';
import { connectionJson } from '../ui/connection.js';
import { formatExpiry } from '../ui/format.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe } from '../ui/terminal-safe.js';

/** Records the CLI's forced (or refused) refresh. */
function audit(vault: Vault, action: AuditAction, connection: Connection): Promise<void> {
  return recordCliAudit(vault, { action, target: connection.id, ownerId: connection.ownerId });
}

/** The one line printed when the connection was force-refreshed less than the interval ago. */
function rateLimitedMessage(config: Pick<Config, 'forcedRefreshMinInterval'>, retryAfter: number): string {
  const wait = Math.max(1, Math.ceil(retryAfter));
  const ago = Math.max(0, Math.floor(config.forcedRefreshMinInterval - wait));
  return `refreshed ${ago} s ago; a forced refresh can run again in ${wait} s`;
}

/** Whether `error` is the vault's refusal of a forced refresh (by brand and code: the bin may bundle its own copy). */
function isRateLimited(error: unknown): error is Error & { retryAfter?: number } {
  return isWebexAuthError(error, { family: 'vault', code: 'rate_limited' });
}

const command: Command = {
  summary: "Refresh a connection's access token now",
  usage: 'refresh [--connection <id|email>] [--json]',
  flags: { ...CONNECTION_FLAG, ...JSON_FLAG },
  help: { ...CONNECTION_HELP, ...JSON_HELP },
  details:
    'Webex keeps the old access token valid after a refresh and caps live tokens per person, so refresh only when\nneeded; `webex-auth token` refreshes by itself when the token is about to expire. A forced refresh runs at most\nonce per connection per FORCED_REFRESH_MIN_INTERVAL seconds (default 30), whoever asks.',
  async run(args, io) {
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const refreshed = await withVault(config, async (vault) => {
      const connection = await resolveConnection(vault, args.values.connection);
      try {
        const c = await vault.connections.refresh(connection.id);
        await audit(vault, 'refresh.forced', connection);
        return c;
      } catch (error) {
        // Near Webex's live-token cap (vault/cap.ts): refused, recorded, and said in the vault's words.
        if (isTokenCapError(error)) {
          await recordCliAudit(vault, {
            action: 'refresh.refused',
            target: connection.id,
            ownerId: connection.ownerId,
            detail: 'token cap',
          });
          throw new CliError(error.message, EXIT.failure);
        }
        if (!isRateLimited(error)) {
          if (!isWebexAuthError(error, 'not_found')) {
            await audit(vault, 'refresh.forced', connection);
          }
          throw error;
        }
        await audit(vault, 'refresh.refused', connection);
        throw new CliError(rateLimitedMessage(config, error.retryAfter ?? 1), EXIT.failure);
      }
    });
    out.success(
      `Refreshed ${terminalSafe(refreshed.displayName)}'s access token; it ${formatExpiry(refreshed.accessExpiresAt, Date.now())}`,
    );
    out.data(connectionJson(refreshed), () => '');
    return EXIT.ok;
  },
};

export default command;
