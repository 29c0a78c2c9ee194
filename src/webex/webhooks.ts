/**
 * Keeping one Webex webhook of this server in place (`/webhooks`): found again among the token owner's webhooks by
 * name and target URL, updated (a restart or a new key brings a new secret; status back to `active`), extra copies
 * deleted, created when missing. Used by the space demo (a `messages`/`created` webhook filtered to its space) and by
 * the Service Apps (a `serviceApp`/`all` webhook per fetching connection).
 */
import * as z from 'zod';
import type { WebexClient } from './client.js';

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

/** A webhook as Webex lists it. */
export type ListedWebhook = z.infer<typeof webhookSchema>;

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

/** The one webhook to keep. */
export interface WebhookSpec {
  /** How this server finds its own webhook again. */
  name: string;
  targetUrl: string;
  resource: string;
  event: string;
  /** Webex's filter (`roomId=…`), if any. */
  filter?: string | undefined;
  secret: string;
  /** Other webhooks of this name that are this server's too (e.g. an earlier version's target), deleted. */
  alsoOurs?: ((w: ListedWebhook) => boolean) | undefined;
}

/**
 * Makes sure the token's owner has exactly one webhook `spec.name` at `spec.targetUrl` for its resource, event and
 * filter, active and signed with `spec.secret`; returns its id. One with another resource, event or filter is
 * replaced; extra copies are deleted.
 * @throws {WebhookSetupError} when Webex refuses a call (e.g. 403 without the scope the resource needs).
 */
export async function ensureWebhook(client: WebexClient, spec: WebhookSpec): Promise<string> {
  const listed = await client.request('GET', '/webhooks', { query: { max: 100 } });
  if (listed.status !== 200) throw new WebhookSetupError('list webhooks', listed.status);
  const parsed = webhookList.safeParse(listed.body);
  if (!parsed.success) throw new WebhookSetupError('list webhooks', 502);
  const ours = parsed.data.items.filter(
    (w) => w.name === spec.name && (w.targetUrl === spec.targetUrl || spec.alsoOurs?.(w) === true),
  );
  const keep = ours.find(
    (w) =>
      w.targetUrl === spec.targetUrl &&
      w.resource === spec.resource &&
      w.event === spec.event &&
      w.filter === spec.filter,
  );
  for (const extra of ours) {
    if (extra === keep) continue;
    const gone = await client.request('DELETE', `/webhooks/${encodeURIComponent(extra.id)}`);
    if (gone.status !== 204 && gone.status !== 404) throw new WebhookSetupError('delete webhook', gone.status);
  }
  if (keep) {
    const updated = await client.request('PUT', `/webhooks/${encodeURIComponent(keep.id)}`, {
      body: { name: spec.name, targetUrl: spec.targetUrl, secret: spec.secret, status: 'active' },
    });
    if (updated.status !== 200) throw new WebhookSetupError('update webhook', updated.status);
    return keep.id;
  }
  const created = await client.request('POST', '/webhooks', {
    body: {
      name: spec.name,
      targetUrl: spec.targetUrl,
      resource: spec.resource,
      event: spec.event,
      ...(spec.filter !== undefined ? { filter: spec.filter } : {}),
      secret: spec.secret,
    },
  });
  const made = webhookSchema.safeParse(created.body);
  if (created.status !== 200 || !made.success) throw new WebhookSetupError('create webhook', created.status);
  return made.data.id;
}
