/** The first positional of a command with subcommands (`keys`, `webhooks`): one of them, or a one-line usage error. */
import { CliError, EXIT } from '../io.js';
import { terminalSafe } from '../ui/terminal-safe.js';

/**
 * Checks that `sub` is one of `subcommands` of `command`; else throws the usage error that names them (what was typed
 * is echoed terminal-safe and cut to 20 characters).
 */
export function assertSubcommand(
  command: string,
  sub: string | undefined,
  subcommands: readonly string[],
): asserts sub is string {
  if (sub && subcommands.includes(sub)) return;
  throw new CliError(
    sub ? `unknown ${command} subcommand "${terminalSafe(sub).slice(0, 20)}"` : `which ${command} subcommand?`,
    EXIT.usage,
    `Use one of: ${subcommands.join(', ')}.`,
  );
}
