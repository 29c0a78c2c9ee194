/**
 * The `integrations` part of the vault: Webex integrations keyed by owner + client id + API base (owners.ts), their
 * client secret envelope-encrypted and bound to the row's id. Rows read by id (every step of a browser flow reads its
 * integration) are cached with their ciphertext behind the store's `integrations` change stamp (stamped-cache.ts); the
 * clear secret is never cached here (the vault's OpenedSecrets holds it beside its ciphertext).
 */
import { randomBytes } from 'node:crypto';
import type { Clock, Integration } from '../oauth/types.js';
import type { KeyRing } from './crypto/keyring.js';
import { adoptLocalIntegration, ownerOf } from './owners.js';
import { integrationRecord, validIntegration } from './records.js';
import { secretSlot } from './slots.js';
import { StampedCache } from './stamped-cache.js';
import type { IntegrationRow, Store } from './store/types.js';
import { CONFIGURED_OWNER, type IntegrationRecord, LOCAL_OPERATOR, type Vault } from './types.js';

/** Reads an integration row by id (treat it as read-only: it may be shared with later calls). */
export type IntegrationRowReader = (id: string) => Promise<IntegrationRow | undefined>;

/** Integration rows by id, cached behind the store's `integrations` change stamp (see the module comment). */
export function cachedIntegrationRows(store: Store): IntegrationRowReader {
  const rows = new StampedCache<string, IntegrationRow>(store, 'integrations');
  return (id) => rows.get(id, () => store.getIntegration(id));
}

/** What {@link createIntegrations} is wired with (by vault.ts). */
export interface IntegrationsDeps {
  store: Store;
  ring: KeyRing;
  clock: Clock;
  /** Rows by id (default: read from the store each time). */
  row?: IntegrationRowReader;
}

/** Integration `id` with its decrypted client secret, for the OAuth calls (the vault's `getIntegrationWithSecret`). */
export async function integrationWithSecret(
  { row: read, ring }: { row: IntegrationRowReader; ring: Pick<KeyRing, 'decrypt'> },
  id: string,
): Promise<(Integration & IntegrationRecord) | undefined> {
  const row = await read(id);
  if (!row) return undefined;
  return { ...integrationRecord(row), clientSecret: ring.decrypt(row.secretEnc, secretSlot(row.id)) };
}

/** The `integrations` part of the vault over a store and key ring. */
export function createIntegrations({ store, ring, clock, row: read }: IntegrationsDeps): Vault['integrations'] {
  const rowOf = read ?? ((id: string) => store.getIntegration(id));
  return {
    async upsert(raw) {
      const input = validIntegration(raw);
      const ownerId = ownerOf(raw.ownerId);
      if (ownerId === CONFIGURED_OWNER) await adoptLocalIntegration(store, input.clientId, input.apiBase);
      const now = clock();
      const existing = await store.findIntegration(ownerId, input.clientId, input.apiBase);
      const id = existing?.id ?? `int_${randomBytes(12).toString('base64url')}`;
      let row = await store.upsertIntegration({
        id,
        ownerId,
        clientId: input.clientId,
        apiBase: input.apiBase,
        redirectUri: input.redirectUri,
        scopes: input.scopes,
        secretEnc: ring.encrypt(input.clientSecret, secretSlot(id)),
        keyId: ring.activeKeyId,
        createdAt: now,
        updatedAt: now,
      });
      if (row.id !== id) {
        // Lost an insert race: the stored row has another id, so its ciphertext must be bound to that id.
        await store.reencryptIntegration(
          row.id,
          row.secretEnc,
          ring.encrypt(input.clientSecret, secretSlot(row.id)),
          ring.activeKeyId,
        );
        row = (await store.getIntegration(row.id)) ?? row;
      }
      return integrationRecord(row);
    },
    async get(id) {
      const row = await rowOf(id);
      return row ? integrationRecord(row) : undefined;
    },
    async findByClientId(clientId, apiBase, ownerId = LOCAL_OPERATOR) {
      const row = await store.findIntegration(ownerId, clientId.trim(), apiBase.replace(/\/+$/, ''));
      return row ? integrationRecord(row) : undefined;
    },
    async list(ownerId) {
      // Integrations only: the client rows of bots and Service Apps (identities.ts) are not offered for sign-in.
      return (await store.listIntegrations(ownerId))
        .filter((r) => (r.kind ?? 'integration') === 'integration')
        .map(integrationRecord);
    },
    async count(ownerId) {
      return store.countIntegrations(ownerOf(ownerId));
    },
  };
}
