/**
 * The CLI's ESM entry (bundled by scripts/build.mjs into dist/cli/main.js): wires the real process IO into runCli.
 * The installed bin is webex-auth.cts, which hands `webex-auth token` to its own bundle and everything else to this.
 */
import { processIO } from './process-io.js';
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), processIO());
