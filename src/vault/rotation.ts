/**
 * Key rotation: re-encrypts every secret not under the ring's active key, in batches of 50, while the vault serves.
 * Each row is replaced by compare-and-set (an integration on its old ciphertext, a connection on its version and only
 * when no refresh holds its lease), so a rotation never overwrites a concurrent refresh.
 *
 * Web sessions and pending authorizations (sessions.ts) are encrypted with the ring too, but are not re-encrypted:
 * they are short-lived (hours; minutes for a pending authorization, which lives in its browser's cookie, out of
 * reach) and every session write seals its data under the active key again. `countNotUnderKey`/`rowsNotUnderKey` count and return integrations and connections only
 * (webhook endpoint secrets, a few per owner, are re-encrypted after them), so a rotation reports done when every
 * long-lived secret is under the active key. A session still sealed under a key
 * then removed from the ring cannot be opened and counts as no session (the browser signs in again); keep the old
 * key in the ring for a session lifetime after rotating to avoid that.
 */
import type { Clock } from '../oauth/types.js';
import type { KeyRing } from './crypto/keyring.js';
import { accessSlot, refreshSlot, secretSlot, webhookSecretSlot } from './slots.js';
import type { Store } from './store/types.js';
import { type RotationProgress, VaultError } from './types.js';

/** Re-encrypts everything under the active key; `onProgress` after each batch. */
export async function rotateKeys(
  { store, ring, clock }: { store: Store; ring: KeyRing; clock: Clock },
  onProgress?: (p: RotationProgress) => void,
): Promise<RotationProgress> {
  const active = ring.activeKeyId;
  // Webhook endpoint secrets (a few per owner) are re-encrypted after the batches, on their old ciphertext.
  const endpoints = (await store.listWebhookEndpoints()).filter((e) => e.keyId !== active);
  const progress: RotationProgress = { done: 0, total: (await store.countNotUnderKey(active)) + endpoints.length };
  onProgress?.({ ...progress });
  let idle = 0;
  for (;;) {
    const batch = await store.rowsNotUnderKey(active, 50);
    if (batch.integrations.length === 0 && batch.connections.length === 0) break;
    let moved = 0;
    for (const r of batch.integrations) {
      const secret = ring.decrypt(r.secretEnc, secretSlot(r.id));
      if (await store.reencryptIntegration(r.id, r.secretEnc, ring.encrypt(secret, secretSlot(r.id)), active)) moved++;
    }
    for (const r of batch.connections) {
      const enc = {
        accessTokenEnc: ring.encrypt(ring.decrypt(r.accessTokenEnc, accessSlot(r.id)), accessSlot(r.id)),
        refreshTokenEnc: ring.encrypt(ring.decrypt(r.refreshTokenEnc, refreshSlot(r.id)), refreshSlot(r.id)),
        keyId: active,
      };
      // Refused while a refresh holds the lease or just wrote: that refresh encrypts under the active key anyway.
      if (await store.reencryptConnection(r.id, r.version, clock(), enc)) moved++;
    }
    progress.done += moved;
    progress.total = Math.max(progress.total, progress.done);
    onProgress?.({ ...progress });
    if (moved === 0) {
      if (++idle > 200) throw new VaultError('conflict', 'Key rotation made no progress: rows stay leased.');
      await new Promise((r) => setTimeout(r, 100));
    } else idle = 0;
  }
  for (const e of endpoints) {
    const secret = ring.encrypt(ring.decrypt(e.secretEnc, webhookSecretSlot(e.id)), webhookSecretSlot(e.id));
    // Refused only when the endpoint was deleted meanwhile: nothing left to move.
    await store.reencryptWebhookEndpoint(e.id, e.secretEnc, secret, active);
    progress.done++;
  }
  if (endpoints.length) onProgress?.({ ...progress });
  return progress;
}
