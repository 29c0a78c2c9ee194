/**
 * Lifecycle events out, in the Standard Webhooks format (https://www.standardwebhooks.com, the `standardwebhooks`
 * package): `POST` with headers `webhook-id` (one id per event, kept by every retry and redelivery, so a receiver
 * recognises a replay), `webhook-timestamp` (seconds, the time of this attempt) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`), and the body `{type, timestamp, data}`. `data` names the
 * connection (`connectionId`) or key (`keyId`) and plain facts — never a token, a secret or an email.
 *
 * An event goes to the operator's `WEBHOOK_URL` (every event), to the account-wide endpoints of its owner, and — for a
 * connection's event — to that connection's endpoints (webhook-endpoints.ts). Each delivery runs in the background in
 * this process (a restart drops the deliveries in flight; the log shows their last attempt) with retries and
 * backoff, so a slow or dead receiver never delays a refresh. Redirects are never followed (a signed POST goes to the
 * configured address or nowhere): a 3xx is a failed delivery. Members' endpoints are reached only through a
 * connection whose DNS look-up refuses private addresses (webhook-address.ts, webhook-client.ts) unless
 * ALLOW_PRIVATE_WEBHOOKS is set.
 * With a store, every delivery is logged (bounded per endpoint) and can be sent again (`redeliver`).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { isWebexAuthError } from '../errors.js';
import type { Clock, FetchLike } from '../oauth/types.js';
import type { KeyRing } from './crypto/keyring.js';
import { webhookSecretSlot } from './slots.js';
import { StampedCache } from './stamped-cache.js';
import type { Store, WebhookDeliveryRow, WebhookEndpointRow } from './store/types.js';
import type { VaultEvent, VaultEventExtra } from './types.js';
import {
  isIpLiteral,
  isPrivateAddress,
  originAndPath,
  RefusedAddressError,
  systemLookup,
  type WebhookLookup,
} from './webhook-address.js';
import { OPERATOR_ENDPOINT, WEBHOOK_LOG_SIZE } from './webhook-types.js';

/**
 * A secret in the Standard Webhooks form `whsec_<base64>`: given so, as is; any other string (a `WEBHOOK_SECRET` of
 * an older setup) is taken as the key's bytes (UTF-8) and encoded — a receiver verifies with this value, or with the
 * plain string and `new Webhook(secret, { format: 'raw' })`.
 */
export function webhookSecretOf(secret: string): string {
  return secret.startsWith('whsec_') ? secret : `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;
}

/** A new Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Options of {@link createWebhookSender}. */
export interface WebhookSenderOptions {
  /** The operator's `WEBHOOK_URL` (every event); undefined: none. */
  url: string | undefined;
  /** Its secret (`WEBHOOK_SECRET`, see {@link webhookSecretOf}); undefined: sent unsigned (never in production). */
  secret: string | undefined;
  /** How the operator's URL is reached (default global fetch). Members' endpoints use their own guarded client. */
  fetch?: FetchLike | undefined;
  logger?: Logger | undefined;
  /** Attempts per delivery (default 5). */
  attempts?: number;
  /** First backoff ceiling in ms, doubled each retry, fully jittered (default 500). */
  baseDelayMs?: number;
  /** The longest wait between attempts in ms (default 60 000); a longer `Retry-After` ends the delivery. */
  maxDelayMs?: number;
  /** The store and key ring of members' endpoints and the delivery log; without them only `url` is served. */
  store?: Store | undefined;
  ring?: KeyRing | undefined;
  /** The vault's clock (events' `timestamp` and the log); the `webhook-timestamp` header is always the wall clock. */
  clock?: Clock | undefined;
  /** ALLOW_PRIVATE_WEBHOOKS: members' endpoints may reach private addresses. */
  allowPrivate?: boolean | undefined;
  /** How members' endpoint host names are resolved (default the system resolver; tests inject one). */
  lookup?: WebhookLookup | undefined;
}

/** An event as the vault emits it, with its owner when known (a deleted connection's row is gone). */
export interface WebhookEventInput {
  type: VaultEvent;
  /** The connection id (`connection.*`) or key id (`key.*`). */
  subjectId: string;
  /** Epoch ms. */
  at: number;
  extra?: VaultEventExtra | undefined;
  /** The subject's owner; looked up for a connection when absent. */
  ownerId?: string | undefined;
  /** A connection's kind (`data.kind`), given with `ownerId` by a caller holding its row; looked up when absent. */
  kind?: string | undefined;
}

/** Sends vault events; `send` returns at once, `drain()` waits for deliveries in flight (for shutdown and tests). */
export interface WebhookSender {
  /**
   * Sends one event about `subjectId` (a connection id, or a key id for `key.*` events) at `at` (epoch ms);
   * `extra` facts are merged into the event's `data`.
   */
  send(event: VaultEvent, subjectId: string, at: number, extra?: VaultEventExtra): void;
  /** Like `send`, with the owner given (a deleted connection's, a key's); returns at once. */
  post(event: WebhookEventInput): void;
  /** Like `post`, resolving once every delivery is queued (and logged). */
  emit(event: WebhookEventInput): Promise<void>;
  /** Sends a logged delivery again as a new log entry (same id and body); undefined when its endpoint is gone. */
  redeliver(delivery: WebhookDeliveryRow): Promise<WebhookDeliveryRow | undefined>;
  drain(): Promise<void>;
  /** Waits up to 2 s for deliveries in flight (shutdown). */
  close(): Promise<void>;
}

/** Where one delivery goes. */
interface Target {
  endpointId: string;
  url: string;
  secret: string | undefined;
  /** A member's endpoint: address-checked, through the guarded client. */
  guarded: boolean;
}

/** Where a redirect pointed, for the log: origin and path only (a query may carry a secret). */
function redirectTarget(location: string | null, base: string): string | undefined {
  if (!location) return undefined;
  return originAndPath(location, base) ?? '(unreadable Location)';
}

/** A refused webhook address (RefusedAddressError), by its brand: the cause may come from another copy of the class. */
const REFUSED_ADDRESS = { family: 'vault', code: 'refused_address' } as const;

/** The log's error class of a failed fetch. */
function errorClass(err: unknown): string {
  const e = err as { name?: string; cause?: { name?: string } } | undefined;
  if ([err, e?.cause].some((x) => isWebexAuthError(x, REFUSED_ADDRESS))) return 'refused_address';
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'timeout';
  return 'network';
}

/** Creates a sender; without a URL and a store it does nothing. */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const inFlight = new Set<Promise<void>>();
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 60_000;
  const clock = options.clock ?? Date.now;
  const store = options.store;
  const allowPrivate = options.allowPrivate === true;
  const lookup = options.lookup ?? systemLookup;
  const operatorSecret = options.secret ? webhookSecretOf(options.secret) : undefined;
  let guardedClient: FetchLike | undefined;
  // Every grant looks up its owner's endpoints, and most owners have none: the answer (empty or not, ciphertexts only)
  // is reused while the store reports no write to webhook_endpoints (stamped-cache.ts).
  const targetRows = store && new StampedCache<string, readonly WebhookEndpointRow[]>(store, 'webhookEndpoints');

  /** The client of members' endpoints: a connect-time look-up that refuses private addresses (webhook-client.ts). */
  async function guarded(): Promise<FetchLike> {
    guardedClient ??= (await import('./webhook-client.js')).guardedFetch(lookup, allowPrivate);
    return guardedClient;
  }

  /** Records an attempt's outcome in the log (a failure to log never fails the delivery). */
  async function note(deliveryId: string | undefined, update: Parameters<Store['updateWebhookDelivery']>[1]) {
    if (!store || !deliveryId) return;
    await store.updateWebhookDelivery(deliveryId, update).catch(() => false);
  }

  async function deliver(target: Target, eventId: string, type: string, body: string, deliveryId?: string) {
    // Loaded on the first delivery (a module the OAuth client shares; the `token` bundle imports it lazily).
    const { backoffDelay, retryAfterOf } = await import('../oauth/retry-after.js');
    // The signer loads on the first signed delivery (webhook-signer.ts).
    const signer = target.secret ? new (await import('./webhook-signer.js')).Webhook(target.secret) : undefined;
    let status = 0;
    let error: string | undefined;
    let redirectedTo: string | undefined;
    let retryAfterMs: number | undefined;
    let attempt = 0;
    for (attempt = 1; attempt <= attempts; attempt++) {
      retryAfterMs = undefined;
      error = undefined;
      const sentAt = new Date();
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'webex-auth',
        'webhook-id': eventId,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      };
      if (signer) headers['webhook-signature'] = signer.sign(eventId, sentAt, body);
      try {
        let send = fetchImpl;
        if (target.guarded) {
          const host = new URL(target.url).hostname.replace(/^\[|\]$/g, '');
          // A literal IP is connected to without a look-up: checked here instead.
          if (!allowPrivate && isIpLiteral(host) && isPrivateAddress(host)) throw new RefusedAddressError(host);
          send = await guarded();
        }
        const res = await send(target.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        await res.body?.cancel().catch(() => {});
        if (res.ok) {
          await note(deliveryId, {
            attempts: attempt,
            lastStatus: status,
            lastError: undefined,
            updatedAt: clock(),
            deliveredAt: clock(),
          });
          return;
        }
        error = status >= 300 && status < 400 ? 'redirect' : `http_${status}`;
        if (status >= 300 && status < 400) {
          redirectedTo = redirectTarget(res.headers.get('location'), target.url);
          break;
        }
        retryAfterMs = retryAfterOf(res);
        // 4xx other than 408/429 will not get better by retrying.
        if (status < 500 && status !== 408 && status !== 429) break;
      } catch (err) {
        status = 0;
        error = errorClass(err);
        // A refused address stays refused.
        if (error === 'refused_address') break;
      }
      await note(deliveryId, {
        attempts: attempt,
        lastStatus: status || undefined,
        lastError: error,
        updatedAt: clock(),
      });
      if (attempt === attempts) break;
      const next = backoffDelay(attempt, { baseMs: base, capMs: cap, retryAfterMs });
      if (!next.wait) break;
      await new Promise((r) => setTimeout(r, next.ms).unref());
    }
    await note(deliveryId, {
      attempts: Math.min(attempt, attempts),
      lastStatus: status || undefined,
      lastError: error,
      updatedAt: clock(),
    });
    options.logger?.warn(
      {
        event: type,
        webhookId: eventId,
        endpoint: target.endpointId,
        status,
        ...(error ? { error } : {}),
        ...(redirectedTo ? { redirectedTo } : {}),
        ...(retryAfterMs !== undefined && retryAfterMs > cap ? { retryAfterMs } : {}),
      },
      status >= 300 && status < 400 ? 'webhook delivery failed: redirects are not followed' : 'webhook delivery failed',
    );
  }

  /** Logs a delivery (when there is a store) and runs it in the background. */
  async function start(
    target: Target,
    eventId: string,
    type: string,
    body: string,
  ): Promise<WebhookDeliveryRow | undefined> {
    let row: WebhookDeliveryRow | undefined;
    if (store) {
      const now = clock();
      row = {
        id: `whd_${randomBytes(12).toString('base64url')}`,
        endpointId: target.endpointId,
        eventId,
        type,
        payload: body,
        attempts: 0,
        lastStatus: undefined,
        lastError: undefined,
        createdAt: now,
        updatedAt: now,
        deliveredAt: undefined,
      };
      try {
        await store.insertWebhookDelivery(row, WEBHOOK_LOG_SIZE);
      } catch {
        row = undefined;
      }
    }
    const p = deliver(target, eventId, type, body, row?.id).catch(() => {});
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return row;
  }

  /** An endpoint row as a target (its secret decrypted). */
  function targetOf(e: WebhookEndpointRow): Target | undefined {
    if (!options.ring) return undefined;
    try {
      return {
        endpointId: e.id,
        url: e.url,
        secret: options.ring.decrypt(e.secretEnc, webhookSecretSlot(e.id)),
        guarded: true,
      };
    } catch {
      options.logger?.warn({ endpoint: e.id }, 'webhook endpoint secret cannot be decrypted: not delivered');
      return undefined;
    }
  }

  /** The owner's endpoints for an event of `connectionId` (none when the store cannot be read). */
  function endpointsOf(s: Store, ownerId: string, connectionId: string | undefined) {
    const read = async () => Object.freeze(await s.webhookTargets(ownerId, connectionId));
    const rows = targetRows ? targetRows.get(`${ownerId}\n${connectionId ?? ''}`, read) : read();
    return rows.then(
      (r) => r ?? [],
      () => [],
    );
  }

  const operator = (): Target | undefined =>
    options.url
      ? { endpointId: OPERATOR_ENDPOINT, url: options.url, secret: operatorSecret, guarded: false }
      : undefined;

  async function emit(event: WebhookEventInput): Promise<void> {
    const isKey = event.type.startsWith('key.');
    let ownerId = event.ownerId;
    const data: Record<string, unknown> = isKey ? { keyId: event.subjectId } : { connectionId: event.subjectId };
    if (!isKey && store && ownerId !== undefined && event.kind !== undefined) data.kind = event.kind;
    else if (!isKey && store) {
      const row = await store.getConnection(event.subjectId).catch(() => undefined);
      ownerId ??= row?.ownerId;
      const kind = (row as { kind?: unknown } | undefined)?.kind;
      if (typeof kind === 'string') data.kind = kind;
    }
    Object.assign(data, event.extra ?? {});
    const targets: Target[] = [];
    const op = operator();
    if (op) targets.push(op);
    if (store && ownerId !== undefined) {
      const rows = await endpointsOf(store, ownerId, isKey ? undefined : event.subjectId);
      for (const r of rows) {
        const t = targetOf(r);
        if (t) targets.push(t);
      }
    }
    // Most events (every grant of a member without endpoints) go nowhere: no id nor body is made for them.
    if (targets.length === 0) return;
    const body = JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), data });
    const eventId = `msg_${randomBytes(18).toString('base64url')}`;
    for (const t of targets) await start(t, eventId, event.type, body);
  }

  /** Emits in the background; `drain()` waits for it too. */
  function post(event: WebhookEventInput): void {
    if (!options.url && !store) return;
    const p: Promise<void> = emit(event).catch((err) => {
      options.logger?.warn({ event: event.type, error: (err as Error).name }, 'webhook event not sent');
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  return {
    send(type, subjectId, at, extra) {
      post({ type, subjectId, at, extra });
    },
    post,
    emit,
    async redeliver(delivery) {
      let target: Target | undefined;
      if (delivery.endpointId === OPERATOR_ENDPOINT) target = operator();
      else {
        const row = await store?.getWebhookEndpoint(delivery.endpointId);
        target = row ? targetOf(row) : undefined;
      }
      if (!target) return undefined;
      return start(target, delivery.eventId, delivery.type, delivery.payload);
    },
    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    async close() {
      // Give deliveries in flight a moment to land; their retries do not hold the process open (timers are unref'd).
      await Promise.race([this.drain(), new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
