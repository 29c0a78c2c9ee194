/**
 * `webex-auth serve` from the bin's CommonJS path: the bin (webex-auth.cts) hands `serve` straight to this module, the
 * entry of the serve bundle (dist/cli/serve/serve.cjs, scripts/build.mjs), instead of starting Node's ESM loader for
 * the CLI bundle (dist/cli/main.js), its dispatcher and its chunks (~70 M instructions of the start to `/readyz`,
 * callgrind). It runs the command exactly as `runCli(['serve', …])` does: the same command, flags, help and errors.
 * The bundle also exports the start's modules (serve-parts.ts) for the CLI bundle's `serve` (serve-bundle.ts).
 */
import command from './commands/serve.js';
import { onStartedServing } from './commands/serve-parts.js';
import { processIO } from './process-io.js';
import { runCommand } from './run-command.js';

export * from './commands/serve-parts.js';

/**
 * Runs `webex-auth serve` with `args` (the arguments after `serve`) and sets the process's exit code; `started` is
 * called with the server's URL once it listens (the bin writes the bundle's code cache then: `saveCodeCache`).
 */
export async function main(args: string[], started: (url: string) => void): Promise<void> {
  onStartedServing(started);
  process.exitCode = await runCommand('serve', command, args, processIO());
}
