#!/usr/bin/env node
/**
 * The `webex-auth` bin. CommonJS on purpose: `webex-auth token` sits inside `$(…)` on every request of a script, and
 * a CommonJS entry that loads one CommonJS bundle (dist/cli/token/token.cjs) never starts Node's ESM loader, which
 * costs ~30 M instructions (5 % of a bare `node` start here) before the first line of our code runs. `serve` goes to
 * its own CommonJS bundle too (startServe, below). Every other command is the ESM bundle, main.js (src/cli/bin.ts);
 * all are written beside this file by scripts/build.mjs. A plain `webex-auth token` whose last answer still stands is
 * printed before any bundle loads (hot-token.ts).
 *
 * A failure to load is one line and exit 1, never a stack trace; a command whose work never settles (nothing left to
 * wait on) exits 13, as an ESM entry's would, not 0.
 */
import fs = require('node:fs');

let settled = false;
function start(): Promise<unknown> {
  if (process.argv[2] === 'serve') return startServe();
  // @ts-expect-error main.js is the bundle scripts/build.mjs writes, not a source file.
  if (process.argv[2] !== 'token') return import('./main.js');
  try {
    // A plain `webex-auth token` whose last answer still stands is printed from the hot-token file (hot-token.ts):
    // node:crypto and a few file reads, no bundle. Only into a pipe or file, as in `$(…)`, never a terminal.
    if (process.argv.length === 3 && plainOutput()) {
      // Bundled as CommonJS from hot-token.ts (its reader alone, hot-token-print.ts) by scripts/build.mjs, which then
      // writes it into the built bin itself.
      const hot = require('./hot-token-print.cjs') as typeof import('./hot-token-print.js');
      if (hot.printHotToken()) return Promise.resolve();
    }
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
/** True when stdout is a pipe, socket or regular file: never a terminal (which would need Node's stream). */
function plainOutput(): boolean {
  try {
    const stat = fs.fstatSync(1);
    return stat.isFIFO() || stat.isFile() || stat.isSocket();
  } catch {
    return false;
  }
}

/**
 * `webex-auth serve` from its own CommonJS bundle (src/cli/serve-main.ts) through the V8 code cache, without the ESM
 * loader and the CLI bundle; the cache is written after the server listens and answered its own `/readyz`
 * (serve-parts.ts `saveCodeCache`), out of the start's way.
 */
function startServe(): Promise<unknown> {
  try {
    const { requireWithCodeCache } = require('./code-cache.cjs') as typeof import('./code-cache.cjs');
    const serve = requireWithCodeCache<typeof import('./serve-main.js')>(require.resolve('./serve/serve.cjs'), 'serve');
    return serve.exports.main(process.argv.slice(3), (url) => serve.exports.saveCodeCache(serve, url));
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
