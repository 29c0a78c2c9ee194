/**
 * The `webhooks` part of the vault: endpoints a member makes for what they own — all of an owner's events, or one
 * connection's — with a Standard Webhooks secret shown once and stored envelope-encrypted (bound to the row id), and
 * the delivery log with redelivery. A URL must be http(s) without credentials; https in team mode; and, unless
 * ALLOW_PRIVATE_WEBHOOKS is set, every address its host resolves to must be public (checked here and again at each
 * delivery, webhook-address.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../oauth/types.js';
import type { KeyRing } from './crypto/keyring.js';
import { webhookSecretSlot } from './slots.js';
import type { Store, WebhookDeliveryRow, WebhookEndpointRow } from './store/types.js';
import { VaultError } from './types.js';
import { checkWebhookHost, RefusedAddressError, type WebhookLookup } from './webhook-address.js';
import {
  MAX_WEBHOOKS_PER_OWNER,
  type VaultWebhooks,
  WEBHOOK_LOG_SIZE,
  type WebhookDelivery,
  type WebhookEndpoint,
} from './webhook-types.js';
import { newWebhookSecret, type WebhookSender } from './webhooks.js';

/** What the endpoints need besides the store. */
export interface WebhookEndpointOptions {
  store: Store;
  ring: KeyRing;
  clock: Clock;
  sender: WebhookSender;
  /** ALLOW_PRIVATE_WEBHOOKS: private targets and plain http allowed. */
  allowPrivate: boolean;
  /** Team mode: https only (unless `allowPrivate`). */
  team: boolean;
  lookup?: WebhookLookup | undefined;
}

function endpointOf(r: WebhookEndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    ownerId: r.ownerId,
    ...(r.connectionId ? { connectionId: r.connectionId } : {}),
    url: r.url,
    ...(r.description ? { description: r.description } : {}),
    createdAt: r.createdAt,
  };
}

function deliveryOf(r: WebhookDeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    endpointId: r.endpointId,
    eventId: r.eventId,
    type: r.type,
    attempts: r.attempts,
    lastStatus: r.lastStatus,
    lastError: r.lastError,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    deliveredAt: r.deliveredAt,
  };
}

const invalid = (message: string) => new VaultError('invalid_request', message);

/** The checked URL of a new endpoint. */
async function checkUrl(raw: string, o: WebhookEndpointOptions): Promise<string> {
  const text = raw.trim();
  if (!text || text.length > 2000 || !URL.canParse(text)) throw invalid('The webhook URL is not a URL.');
  const url = new URL(text);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('The webhook URL must be http or https.');
  if (url.username || url.password) throw invalid('The webhook URL may not hold a user name or password.');
  if (url.hash) throw invalid('The webhook URL may not hold a #fragment.');
  if (url.protocol === 'http:' && o.team && !o.allowPrivate) {
    throw invalid('The webhook URL must be https on a team server.');
  }
  if (!o.allowPrivate) {
    try {
      await checkWebhookHost(url.hostname, o.lookup);
    } catch (err) {
      if (err instanceof RefusedAddressError) {
        throw invalid(`The webhook URL is refused: ${err.message} Webhooks go to public addresses only.`);
      }
      throw err;
    }
  }
  return url.href;
}

/** The `webhooks` part of the vault. */
export function createWebhookEndpoints(o: WebhookEndpointOptions): VaultWebhooks {
  const { store, ring, clock } = o;
  return {
    async create(input) {
      const url = await checkUrl(input.url, o);
      const description = input.description?.replace(/\s+/g, ' ').trim().slice(0, 100) || undefined;
      if (description && /[\u0000-\u001f\u007f-\u009f]/.test(description)) {
        throw invalid('The description may not hold control characters.');
      }
      if (input.connectionId !== undefined) {
        const c = await store.getConnection(input.connectionId);
        if (!c || c.ownerId !== input.ownerId) throw new VaultError('not_found', 'No such connection.');
      }
      if ((await store.listWebhookEndpoints(input.ownerId)).length >= MAX_WEBHOOKS_PER_OWNER) {
        throw invalid(`An owner may have at most ${MAX_WEBHOOKS_PER_OWNER} webhook endpoints; remove one first.`);
      }
      const id = `whe_${randomBytes(12).toString('base64url')}`;
      const secret = newWebhookSecret();
      const row: WebhookEndpointRow = {
        id,
        ownerId: input.ownerId,
        connectionId: input.connectionId,
        url,
        secretEnc: ring.encrypt(secret, webhookSecretSlot(id)),
        keyId: ring.activeKeyId,
        description,
        createdAt: clock(),
      };
      await store.insertWebhookEndpoint(row);
      return { secret, endpoint: endpointOf(row) };
    },
    async get(id) {
      const row = await store.getWebhookEndpoint(id);
      return row ? endpointOf(row) : undefined;
    },
    async list(ownerId) {
      return (await store.listWebhookEndpoints(ownerId)).map(endpointOf);
    },
    remove: (id) => store.deleteWebhookEndpoint(id),
    async deliveries(endpointId, limit = WEBHOOK_LOG_SIZE) {
      const n = Math.max(1, Math.min(WEBHOOK_LOG_SIZE, Math.floor(limit)));
      return (await store.listWebhookDeliveries(endpointId, n)).map(deliveryOf);
    },
    async getDelivery(id) {
      const row = await store.getWebhookDelivery(id);
      return row ? deliveryOf(row) : undefined;
    },
    async redeliver(deliveryId) {
      const row = await store.getWebhookDelivery(deliveryId);
      if (!row) return undefined;
      const again = await o.sender.redeliver(row);
      return again ? deliveryOf(again) : undefined;
    },
  };
}
