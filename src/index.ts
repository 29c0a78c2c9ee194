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
// The token vault: openVault imports its database driver only when called.
export * from './vault/types.js';
export { openVault, type VaultInternals, type VaultTuning } from './vault/vault.js';
export * from './vault/webhook-types.js';
export { newWebhookSecret, webhookSecretOf } from './vault/webhooks.js';
export * from './webex/index.js';
