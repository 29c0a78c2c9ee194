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

/** The webhook's name (how this server finds its own webhook again). */
export const SPACE_WEBHOOK_NAME = 'webex-auth space demo';

/** A webhook as Webex lists it (the fields used here). */
const webhookSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  targetUrl: z.string(),
  resource: z.string().optional(),
  event: z.string().optional(),
  filter: z.string().optional(),
});
const webhookList = z.looseObject({ items: z.array(webhookSchema) });

/** Webex refused a webhook call: its HTTP status (no body, which might echo what was sent). */
export class WebhookSetupError extends Error {
  override name = 'WebhookSetupError';
  constructor(
    readonly step: string,
    readonly status: number,
  ) {
    super(`${step}: HTTP ${status}`);
  }
}

/** What the webhook is for. */
export interface SpaceWebhookSpec {
  targetUrl: string;
  spaceId: string;
  secret: string;
}

/**
 * Makes sure the token's owner has exactly one space-demo webhook at `targetUrl` for `spaceId`, active and signed
 * with `secret`; returns its id. An existing one is updated (a restart brings a new secret), one for another space is
 * replaced, and extra copies are deleted.
 * @throws {WebhookSetupError} when Webex refuses a call (e.g. 403 without a messages scope).
 */
export async function ensureSpaceWebhook(client: WebexClient, spec: SpaceWebhookSpec): Promise<string> {
  const filter = `roomId=${spec.spaceId}`;
  const listed = await client.request('GET', '/webhooks', { query: { max: 100 } });
  if (listed.status !== 200) throw new WebhookSetupError('list webhooks', listed.status);
  const parsed = webhookList.safeParse(listed.body);
  if (!parsed.success) throw new WebhookSetupError('list webhooks', 502);
  const ours = parsed.data.items.filter((w) => w.name === SPACE_WEBHOOK_NAME && w.targetUrl === spec.targetUrl);
  const keep = ours.find((w) => w.resource === 'messages' && w.event === 'created' && w.filter === filter);
  for (const extra of ours) {
    if (extra === keep) continue;
    const gone = await client.request('DELETE', `/webhooks/${encodeURIComponent(extra.id)}`);
    if (gone.status !== 204 && gone.status !== 404) throw new WebhookSetupError('delete webhook', gone.status);
  }
  if (keep) {
    const updated = await client.request('PUT', `/webhooks/${encodeURIComponent(keep.id)}`, {
      body: { name: SPACE_WEBHOOK_NAME, targetUrl: spec.targetUrl, secret: spec.secret, status: 'active' },
    });
    if (updated.status !== 200) throw new WebhookSetupError('update webhook', updated.status);
    return keep.id;
  }
  const created = await client.request('POST', '/webhooks', {
    body: {
      name: SPACE_WEBHOOK_NAME,
      targetUrl: spec.targetUrl,
      resource: 'messages',
      event: 'created',
      filter,
      secret: spec.secret,
    },
  });
  const made = webhookSchema.safeParse(created.body);
  if (created.status !== 200 || !made.success) throw new WebhookSetupError('create webhook', created.status);
  return made.data.id;
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
