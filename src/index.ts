/**
 * webex-auth as a library: the Webex OAuth2/OIDC client, the thin REST client and the configuration loader.
 * Importing this module pulls in no server.
 */

export {
  type Config,
  ConfigError,
  type LoadConfigOptions,
  loadConfig,
  WEBEX_API_BASE,
  WEBEX_FEDRAMP_API_BASE,
} from './config.js';
export * from './oauth/index.js';
export * from './webex/index.js';
