/**
 * The Webex OAuth2/OIDC client: authorization URL, callback parsing, code exchange, refresh, device grant,
 * id_token verification, userinfo, scope handling and the error taxonomy. I/O only through an injected fetch and clock.
 */
export * from '../scopes/catalog.js';
export * from './authorize.js';
export * from './callback.js';
export * from './device.js';
export * from './errors.js';
export { basicAuth, oauthErrorFromResponse, retryAfterSeconds, trackingIdOf } from './http.js';
export * from './oidc.js';
export * from './scopes.js';
export * from './tokens.js';
export type * from './types.js';
