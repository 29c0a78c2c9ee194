/**
 * The space demo's Webex webhook: registered with the person's token (a `messages`/`created` webhook filtered to the
 * demo space), never twice (found again by name and target URL, and updated with this process's secret), and the
 * `X-Spark-Signature` check of what Webex delivers.
 *
 * Why the person's token, not the bot's: the page shows the space *through the person's token*, and a person's
 * webhook fires for every message that person can read; a bot's fires only for its direct spaces and for group-space
 * messages that @mention it, so it would miss most of the conversation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { WebexClient } from '../../webex/client.js';
import { ensureWebhook, WebhookSetupError } from '../../webex/webhooks.js';

/** The webhook's name (how this server finds its own webhook again). */
export const SPACE_WEBHOOK_NAME = 'webex-auth space demo';

export { WebhookSetupError };

/** What the webhook is for. */
export interface SpaceWebhookSpec {
  targetUrl: string;
  spaceId: string;
  secret: string;
}

/**
 * Makes sure the token's owner has exactly one space-demo webhook at `targetUrl` for `spaceId`, active and signed
 * with `secret`; returns its id. An existing one is updated (a restart brings a new secret), one for another space is
 * replaced, and extra copies are deleted (webex/webhooks.ts).
 * @throws {WebhookSetupError} when Webex refuses a call (e.g. 403 without a messages scope).
 */
export function ensureSpaceWebhook(client: WebexClient, spec: SpaceWebhookSpec): Promise<string> {
  return ensureWebhook(client, {
    name: SPACE_WEBHOOK_NAME,
    targetUrl: spec.targetUrl,
    resource: 'messages',
    event: 'created',
    filter: `roomId=${spec.spaceId}`,
    secret: spec.secret,
  });
}

/** Whether `signature` (the `X-Spark-Signature` header) is the hex HMAC-SHA1 of `body` under `secret`. */
export function validSparkSignature(body: Buffer, signature: unknown, secret: string): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{40}$/i.test(signature)) return false;
  const want = createHmac('sha1', secret).update(body).digest();
  return timingSafeEqual(want, Buffer.from(signature, 'hex'));
}

/** A delivery of the space webhook (the fields used; Webex sends more). */
export const deliverySchema = z.looseObject({
  id: z.string().min(1).max(500),
  resource: z.string().max(50),
  event: z.string().max(50),
  data: z.looseObject({ id: z.string().min(1).max(500), roomId: z.string().max(500).optional() }),
});

/** A delivery of the space webhook. */
export type Delivery = z.infer<typeof deliverySchema>;
