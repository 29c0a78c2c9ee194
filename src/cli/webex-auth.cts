#!/usr/bin/env node
/**
 * The `webex-auth` bin. CommonJS on purpose: `webex-auth token` sits inside `$(…)` on every request of a script, and
 * a CommonJS entry that loads one CommonJS bundle (dist/cli/token/token.cjs) never starts Node's ESM loader, which
 * costs ~30 M instructions (5 % of a bare `node` start here) before the first line of our code runs. Every other
 * command is the ESM bundle, main.js (src/cli/bin.ts); both are written beside this file by scripts/build.mjs.
 */
if (process.argv[2] === 'token') {
  void (require('./token/token.cjs') as { main(args: string[]): Promise<void> }).main(process.argv.slice(3));
} else {
  // @ts-expect-error main.js is the bundle scripts/build.mjs writes, not a source file.
  void import('./main.js');
}
