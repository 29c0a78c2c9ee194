/**
 * The Standard Webhooks signer, in a module of its own so that it loads on the first signed delivery: the `token`
 * command and `serve`'s start never sign, and the package (with its SHA-256 and base64 code) was ~27 KB of the token
 * bundle parsed at every start (scripts/build.mjs builds this file beside that bundle).
 */
export { Webhook } from 'standardwebhooks';
