/**
 * Every encrypted field of the store in one place: which record fields the key ring encrypts, and the slot each is
 * bound to. A slot (table, row id, column) becomes the ciphertext's additional authenticated data (crypto/keyring.ts),
 * so a ciphertext copied to another row or column fails to decrypt. The names are the store's own, and never change:
 * stored ciphertexts are bound to them.
 */
import type { SecretSlot } from './crypto/keyring.js';

/** An integration's (or a bot's or Service App's client row's) client secret. */
export const secretSlot = (id: string): SecretSlot => ({ table: 'integrations', rowId: id, column: 'client_secret' });

/** A connection's access token. */
export const accessSlot = (id: string): SecretSlot => ({ table: 'connections', rowId: id, column: 'access_token' });

/** A connection's refresh token. */
export const refreshSlot = (id: string): SecretSlot => ({ table: 'connections', rowId: id, column: 'refresh_token' });

/** A guest token minted by a Service App connection for one guest subject. */
export const guestSlot = (connectionId: string, subject: string): SecretSlot => ({
  table: 'guest_tokens',
  rowId: `${connectionId}:${subject}`,
  column: 'token',
});

/** A webhook endpoint's Standard Webhooks secret. */
export const webhookSecretSlot = (id: string): SecretSlot => ({
  table: 'webhook_endpoints',
  rowId: id,
  column: 'secret',
});

/** A web session's data (keyed by the SHA-256 of the session id). */
export const sessionSlot = (idHash: string): SecretSlot => ({ table: 'web_sessions', rowId: idHash, column: 'data' });

/**
 * A pending authorization, sealed into its browser's cookie (not a store row): bound to the SHA-256 of the flow id it
 * was started under and to its key (16 hex characters of its state's SHA-256, which name the cookie), so it opens only
 * in that browser and under its own cookie name.
 */
export const pendingSlot = (browserHash: string, key: string): SecretSlot => ({
  table: 'pending_cookies',
  rowId: `${browserHash}:${key}`,
  column: 'pending',
});
