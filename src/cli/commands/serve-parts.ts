/**
 * The modules `webex-auth serve` starts with: the web app, the served vault and, in demo mode, the in-process
 * emulator. serve.ts imports them through this one module so that the build can hand them over as one CommonJS bundle
 * read through a V8 code cache (scripts/build.mjs, src/cli/serve-bundle.ts); run from the sources, this is the module.
 */
export { buildApp, listen } from '../../server/app.js';
export { openServedVault } from '../serve-vault.js';

/** The demo mode's module (the emulator and its seed), loaded only when demo mode starts. */
export function loadDemo(): Promise<typeof import('../../server/demo.js')> {
  return import('../../server/demo.js');
}

let started: () => void = () => {};

/**
 * Called once the server listens: the bundled build writes its code cache here when it had none (serve-bundle.ts, or
 * what the bin's CommonJS path set with {@link onStartedServing}); nothing to do when run from the sources.
 */
export function startedServing(): void {
  started();
}

/** Sets what {@link startedServing} calls: the bin's CommonJS path (serve-main.ts) writes the code cache then. */
export function onStartedServing(then: () => void): void {
  started = then;
}
