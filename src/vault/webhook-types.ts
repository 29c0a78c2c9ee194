/** The public shapes of lifecycle-event webhooks: endpoints members own, their delivery log, and the vault calls. */

/** An account's or a connection's webhook endpoint, without its secret. */
export interface WebhookEndpoint {
  id: string;
  ownerId: string;
  /** Undefined: every event of the owner's connections and keys; else this connection's events only. */
  connectionId?: string | undefined;
  url: string;
  description?: string | undefined;
  createdAt: number;
}

/** One event's delivery to one endpoint (endpoint `operator`: the operator's `WEBHOOK_URL`). */
export interface WebhookDelivery {
  id: string;
  endpointId: string;
  /** The `webhook-id` header: the same for every retry and redelivery of the event. */
  eventId: string;
  type: string;
  attempts: number;
  lastStatus?: number | undefined;
  /** The last failure's class (`http_503`, `network`, `timeout`, `redirect`, `refused_address`). */
  lastError?: string | undefined;
  createdAt: number;
  updatedAt: number;
  deliveredAt?: number | undefined;
}

/** The endpoint id of the operator's `WEBHOOK_URL` in the delivery log. */
export const OPERATOR_ENDPOINT = 'operator';

/** Endpoints one owner may have. */
export const MAX_WEBHOOKS_PER_OWNER = 20;
/** Deliveries the log keeps per endpoint. */
export const WEBHOOK_LOG_SIZE = 100;

/** What `webhooks.create` takes. */
export interface WebhookEndpointInput {
  ownerId: string;
  url: string;
  /** Only this connection's events (it must be the owner's). */
  connectionId?: string | undefined;
  description?: string | undefined;
}

/** The `webhooks` part of the vault. Access checks (who may see which owner's endpoints) are the caller's. */
export interface VaultWebhooks {
  /**
   * Makes an endpoint; the secret (`whsec_…`) is returned this once and stored encrypted.
   * @throws {VaultError} `invalid_request` (a bad or refused URL, too many endpoints), `not_found` (the connection
   * is not the owner's).
   */
  create(input: WebhookEndpointInput): Promise<{ secret: string; endpoint: WebhookEndpoint }>;
  get(id: string): Promise<WebhookEndpoint | undefined>;
  /** Every endpoint, or those of one owner. */
  list(ownerId?: string): Promise<WebhookEndpoint[]>;
  /** Deletes an endpoint and its log; true when it existed. */
  remove(id: string): Promise<boolean>;
  /** An endpoint's deliveries, newest first. */
  deliveries(endpointId: string, limit?: number): Promise<WebhookDelivery[]>;
  getDelivery(id: string): Promise<WebhookDelivery | undefined>;
  /**
   * Sends a logged delivery again — same `webhook-id` and body, a new timestamp and signature — as a new log entry;
   * undefined when the delivery or its endpoint is gone. Returns at once (the delivery runs in the background).
   */
  redeliver(deliveryId: string): Promise<WebhookDelivery | undefined>;
}
