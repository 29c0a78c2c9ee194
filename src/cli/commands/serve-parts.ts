/**
 * The modules `webex-auth serve` starts with: the web app, the served vault and, in demo mode, the in-process
 * emulator. serve.ts imports them through this one module so that the build can hand them over as one CommonJS bundle
 * read through a V8 code cache (scripts/build.mjs, src/cli/serve-bundle.ts); run from the sources, this is the module.
 */
import { get } from 'node:http';

export { buildApp, listen } from '../../server/app.js';
export { openServedVault } from '../serve-vault.js';

/** The demo mode's module (the emulator and its seed), loaded only when demo mode starts. */
export function loadDemo(): Promise<typeof import('../../server/demo.js')> {
  return import('../../server/demo.js');
}

let started: (url: string) => void = () => {};

/**
 * Called once the server listens at `url`: the bundled build writes its code cache here when it had none
 * (serve-bundle.ts, or what the bin's CommonJS path set with {@link onStartedServing}); nothing to do when run from
 * the sources.
 */
export function startedServing(url: string): void {
  started(url);
}

/** Sets what {@link startedServing} calls: the bin's CommonJS path (serve-main.ts) writes the code cache then. */
export function onStartedServing(then: (url: string) => void): void {
  started = then;
}

/**
 * Writes the serve bundle's code cache (code-cache.cts) when this start needs one, once the server at `url` answered
 * one `/readyz` of its own: the cache then also holds the functions a request runs, which every later start otherwise
 * compiled on its first request (~10 M instructions, bench/limits.md "serve start"). An https server is not asked (its
 * certificate is self-signed); whatever the answer, or none within 2 s, the cache is written, once.
 *
 * The request names the server `localhost`, which the Host check allows in every mode, and a wildcard listen address
 * (`0.0.0.0`, `[::]`, as in a container) is reached over loopback: the server's own answer, never a 421.
 */
export function saveCodeCache(cache: { stale: boolean; save(): void }, url: string): void {
  let saved = false;
  const save = () => {
    if (saved) return;
    saved = true;
    // Not in the way of the start itself: writing serializes every function compiled so far.
    setImmediate(() => cache.save());
  };
  if (!cache.stale || !url.startsWith('http://')) {
    save();
    return;
  }
  const at = new URL(url);
  const hostname = at.hostname === '0.0.0.0' ? '127.0.0.1' : at.hostname === '[::]' ? '::1' : at.hostname;
  const request = get(
    {
      hostname: hostname.replace(/^\[|\]$/g, ''),
      port: at.port,
      path: '/readyz',
      agent: false,
      headers: { host: `localhost:${at.port}` },
    },
    (response) => response.resume(),
  );
  request.setTimeout(2000, () => request.destroy());
  // `close` comes last whatever happened (an answer read to its end, an error, a timeout): the one place to save.
  request.on('error', () => {});
  request.on('close', save);
}
