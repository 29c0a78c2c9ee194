/**
 * The hot-token file's reader alone (hot-token.ts), for the bin: scripts/build.mjs bundles this entry to CommonJS and
 * the bin carries it inline. Re-exported, not required whole, so that esbuild leaves the writer's functions out of the
 * bin: a hit then parses none of them (~0.5 M instructions of `webex-auth token`'s hit, callgrind).
 */
export { printHotToken } from './hot-token.js';
