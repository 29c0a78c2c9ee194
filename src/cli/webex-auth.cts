#!/usr/bin/env node
/**
 * The `webex-auth` bin. CommonJS on purpose: `webex-auth token` sits inside `$(…)` on every request of a script, and
 * a CommonJS entry that loads one CommonJS bundle (dist/cli/token/token.cjs) never starts Node's ESM loader, which
 * costs ~30 M instructions (5 % of a bare `node` start here) before the first line of our code runs. Every other
 * command is the ESM bundle, main.js (src/cli/bin.ts); both are written beside this file by scripts/build.mjs.
 *
 * A failure to load is one line and exit 1, never a stack trace; a command whose work never settles (nothing left to
 * wait on) exits 13, as an ESM entry's would, not 0.
 */
let settled = false;
function start(): Promise<unknown> {
  // @ts-expect-error main.js is the bundle scripts/build.mjs writes, not a source file.
  if (process.argv[2] !== 'token') return import('./main.js');
  try {
    // Through a V8 code cache (code-cache.cts): V8 skips compiling the bundle on every run after the first.
    const { requireWithCodeCache } = require('./code-cache.cjs') as typeof import('./code-cache.cjs');
    const token = requireWithCodeCache<{ main(args: string[]): Promise<void> }>(require.resolve('./token/token.cjs'));
    return token.exports.main(process.argv.slice(3)).then(() => {
      // Only a run that succeeded writes the cache (a failing one may not have run the usual path).
      if (!process.exitCode) token.save();
    });
  } catch (error) {
    return Promise.reject(error);
  }
}
start().then(
  () => {
    settled = true;
  },
  (error: unknown) => {
    settled = true;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`webex-auth: ${message.split('\n')[0]}\n`);
    process.exitCode = 1;
  },
);
process.on('exit', (code) => {
  if (!settled && code === 0) process.exitCode = 13;
});
