/**
 * What serve.ts's `import('./serve-parts.js')` becomes in the built CLI (scripts/build.mjs points it here): the same
 * exports, read from the CommonJS bundle dist/cli/serve/serve.cjs through a V8 code cache (code-cache.cts). Node 20
 * has no compile cache for ES modules, and compiling the server's module graph (Fastify, zod, the app, the vault, the
 * emulator) was about a third of the instructions from `serve`'s spawn to `/readyz` (bench/limits.md); with the
 * cache V8 deserializes the functions the last start compiled instead. Only the built CLI runs this file.
 */
import { createRequire } from 'node:module';
import type * as ServeParts from './commands/serve-parts.js';

// Both paths are relative to the chunk this module is bundled into, dist/cli/chunks/.
const require = createRequire(import.meta.url);
const { requireWithCodeCache } = require('../code-cache.cjs') as typeof import('./code-cache.cjs');
const bundle = requireWithCodeCache<typeof ServeParts>(require.resolve('../serve/serve.cjs'), 'serve');

/** serve-parts.ts's exports (the web app, the served vault, the demo's loader), from the bundle. */
export const { buildApp, listen, openServedVault, loadDemo } = bundle.exports;

/** Writes the code cache when this start had none or V8 rejected it, once the server listens at `url` (never throws). */
export function startedServing(url: string): void {
  bundle.exports.saveCodeCache(bundle, url);
}
