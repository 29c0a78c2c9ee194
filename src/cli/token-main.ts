/**
 * `webex-auth token` on its own: `$(webex-auth token)` runs on every request of a script, so the bin (webex-auth.cts)
 * hands `token` straight to this module instead of loading the dispatcher, the command table and their chunks. The
 * build bundles it into one CommonJS file, dist/cli/token/token.cjs (scripts/build.mjs says why). It runs the command
 * exactly as `runCli(['token', …])` does.
 */
import command from './commands/token.js';
import { processIO } from './process-io.js';
import { runCommand } from './run-command.js';

/** Runs `webex-auth token` with `args` (the arguments after `token`) and sets the process's exit code. */
export async function main(args: string[]): Promise<void> {
  process.exitCode = await runCommand('token', command, args, processIO());
}
