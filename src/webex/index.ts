/** The thin Webex REST client. */
export * from './client.js';
export * from './errors.js';
export { nextLink } from './link.js';
export * from './schemas.js';
