/**
 * `webex-auth reconcile`: one reconciliation with Webex, then exit — what a running `serve` does every
 * RECONCILE_INTERVAL. Each active connection is probed with its own token (a 401 gets one refresh); where an admin
 * connection (`identity:tokens_read`) exists for the person's org, the person's grants are listed. A grant gone at
 * Webex turns the connection `needs_reauth` (`revoked_at_webex`, or `refresh_refused` without an admin listing).
 * Exit codes: 0 all fine, 4 a connection needs re-authorization.
 */
import type { Command } from '../command.js';
import { loadCliConfig, withVault } from '../context.js';
import { EXIT } from '../io.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe } from '../ui/terminal-safe.js';

const command: Command = {
  summary: 'Check every connection against Webex once and mark revoked grants (as `serve` does hourly)',
  usage: 'reconcile [--json]',
  flags: { ...JSON_FLAG },
  help: { ...JSON_HELP },
  details:
    "Probes each active connection with its token and, where an org admin is connected with identity:tokens_read, lists\nthe person's grants. Exit codes: 0 all fine, 4 a connection needs re-authorization (`webex-auth login`).",
  async run(args, io) {
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const { result, needsReauth } = await withVault(config, async (vault) => {
      const result = await vault.reconcile();
      // A query, not a listing of every connection (a broker may hold a million).
      const needsReauth = await vault.connections.find({ status: 'needs_reauth' });
      return { result, needsReauth };
    });
    if (!result.ran) out.info('Another instance (a running `serve`) is reconciling right now; nothing to do here.');
    else if (result.stopped)
      out.warn(
        `Stopped after ${result.checked} connection${result.checked === 1 ? '' : 's'}: another instance took over the reconciliation (${result.revoked.length} revoked at Webex so far).`,
      );
    else
      out.success(
        `Reconciled ${result.checked} connection${result.checked === 1 ? '' : 's'}: ${result.revoked.length} revoked at Webex${result.unknown ? `, ${result.unknown} not reachable` : ''}`,
      );
    for (const c of needsReauth) {
      out.warn(
        `${terminalSafe(c.displayName)}${c.personEmail ? ` <${terminalSafe(c.personEmail)}>` : ''} (${c.id}) needs re-authorization (${c.needsReauthReason ?? 'refresh_refused'}): run \`webex-auth login\``,
      );
    }
    const exitCode = needsReauth.length ? EXIT.authNeeded : EXIT.ok;
    out.data(
      {
        ran: result.ran,
        stopped: result.stopped === true,
        checked: result.checked,
        revoked: result.revoked,
        unknown: result.unknown,
        needsReauth: needsReauth.map((c) => ({ id: c.id, reason: c.needsReauthReason ?? 'refresh_refused' })),
        exitCode,
      },
      () => '',
    );
    return exitCode;
  },
};

export default command;
