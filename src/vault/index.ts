/**
 * The token vault: storage (SQLite/PostgreSQL), envelope encryption, single-flight refresh, keep-alive, API keys,
 * webhooks out, and team mode's owners, accounts and web sessions. See design.md, "Token broker API" and "Refresh
 * policy".
 */

export { hashApiKey } from './api-keys.js';
export { keyFilePath, resolveKeys } from './crypto/dev-key.js';
export { generateKeyEntry, KeyRing, parseKeyRing } from './crypto/keyring.js';
export { VaultMetrics } from './metrics.js';
export { ownerOf } from './owners.js';
export { connectionOf } from './records.js';
export { openPostgresStore } from './store/postgres.js';
export { openSqliteStore } from './store/sqlite.js';
export type { AccountRow, SessionRow, Store, TakenStateRow } from './store/types.js';
export * from './types.js';
export { openVault, type VaultInternals, type VaultTuning } from './vault.js';
export * from './webhook-types.js';
export { newWebhookSecret, webhookSecretOf } from './webhooks.js';
