/**
 * `webex-auth keepalive`: one keep-alive sweep, then exit — for cron or a systemd timer when no `serve` runs (a
 * running `serve` sweeps every hour by itself). It refreshes the connections whose refresh token is due (less than
 * KEEPALIVE_DAYS left), exactly as `serve` does, and exits 0 when all is fine, 1 when a refresh failed, and 4 when a
 * connection needs re-authorization (its refresh token was refused; no sweep can keep it alive).
 */
import type { Connection } from '../../vault/types.js';
import type { Command } from '../command.js';
import { loadCliConfig, withVault } from '../context.js';
import { EXIT } from '../io.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe } from '../ui/terminal-safe.js';

/** What `--json` prints. */
export interface KeepaliveReport {
  /**
   * False only when this process was already sweeping or closing, so this call swept nothing. Instances sharing the
   * store sweep together, each claiming its own batches of due connections: a running `serve` does not stop this one.
   */
  ran: boolean;
  refreshed: number;
  failed: number;
  /** Connections that need re-authorization, after the sweep. */
  needsReauth: { id: string; email: string; displayName: string }[];
  /** The exit code. */
  exitCode: number;
}

/** The exit code of a sweep: 4 when a connection needs re-authorization, else 1 when a refresh failed, else 0. */
export function keepaliveExitCode(failed: number, needsReauth: readonly Connection[]): number {
  if (needsReauth.length) return EXIT.authNeeded;
  return failed > 0 ? EXIT.failure : EXIT.ok;
}

const command: Command = {
  summary: 'Run one keep-alive sweep and exit (for cron or a systemd timer)',
  usage: 'keepalive [--json]',
  flags: { ...JSON_FLAG },
  help: { ...JSON_HELP },
  details:
    'Refreshes every connection whose refresh token has less than KEEPALIVE_DAYS left, as a running `serve` does every\nhour. Exit codes: 0 all fine, 1 a refresh failed (it is retried on the next run), 4 a connection needs\nre-authorization (`webex-auth login`). Example crontab line: `17 3 * * * webex-auth keepalive`.',
  async run(args, io) {
    const out = createOutput(io, args.values);
    const config = await loadCliConfig(io);
    const { result, needsReauth } = await withVault(config, async (vault) => {
      const result = await vault.sweepOnce();
      const needsReauth = await vault.connections.find({ status: 'needs_reauth' });
      return { result, needsReauth };
    });
    const exitCode = keepaliveExitCode(result.failed, needsReauth);
    const report: KeepaliveReport = {
      ran: result.ran,
      refreshed: result.refreshed,
      failed: result.failed,
      needsReauth: needsReauth.map((c) => ({ id: c.id, email: c.personEmail, displayName: c.displayName })),
      exitCode,
    };
    if (!result.ran) out.info('A sweep was already running in this process (or it was closing); nothing swept.');
    else if (result.failed) out.warn(`Keep-alive: refreshed ${result.refreshed}, ${result.failed} failed`);
    else out.success(`Keep-alive: refreshed ${result.refreshed} connection${result.refreshed === 1 ? '' : 's'}`);
    for (const c of needsReauth) {
      out.warn(
        `${terminalSafe(c.displayName)}${c.personEmail ? ` <${terminalSafe(c.personEmail)}>` : ''} (${c.id}) needs re-authorization: run \`webex-auth login\``,
      );
    }
    out.data(report, () => '');
    return exitCode;
  },
};

export default command;
