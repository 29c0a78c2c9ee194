/**
 * The Service Apps' Webex webhook: one `serviceApp` webhook (events `all`) per fetching integration connection,
 * registered with that connection's token (Webex sends `serviceApp` events to the developer's integration), never
 * twice (found again by name and target URL, and updated with the current secret). Its `authorized` deliveries make
 * the server onboard the new org by itself; `deauthorized` ones turn the org's connection `needs_reauth`.
 *
 * The signing secret is derived from the vault's key ring (`deriveKeys`), so every instance sharing `WEBEX_AUTH_KEYS`
 * checks deliveries with the same secret; the check itself is the space demo's ({@link validSparkSignature}).
 */
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { type Config, isLoopbackHost } from '../../config.js';
import type { WebexClient } from '../../webex/client.js';
import { webhookTarget } from '../space/target.js';
import { validSparkSignature, WebhookSetupError } from '../space/webhooks.js';

/** The receiver's path. */
export const SERVICE_APP_WEBHOOK_PATH = '/service-apps/webhook';
/** The webhook's name (how this server finds its own webhook again). */
export const SERVICE_APP_WEBHOOK_NAME = 'webex-auth service apps';
/** The `deriveKeys` purpose of the signing secret. */
export const SERVICE_APP_WEBHOOK_PURPOSE = 'service-app-webhook';

const webhookSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  targetUrl: z.string(),
  resource: z.string().optional(),
  event: z.string().optional(),
});
const webhookList = z.looseObject({ items: z.array(webhookSchema) });

/** A `serviceApp` delivery (the fields used; Webex sends more). */
export const serviceAppDelivery = z.looseObject({
  resource: z.literal('serviceApp'),
  event: z.string().max(50),
  data: z.looseObject({
    id: z.string().min(1).max(300).optional(),
    applicationId: z.string().min(1).max(300).optional(),
    orgId: z.string().min(1).max(200),
  }),
});

/** The secrets deliveries may be signed with (one per key in the ring; the first is the one registered). */
export function webhookSecrets(deriveKeys: (purpose: string) => Buffer[]): string[] {
  return deriveKeys(SERVICE_APP_WEBHOOK_PURPOSE).map((k) => k.toString('hex'));
}

/** Whether `signature` is valid for `body` under any of `secrets`. */
export function validDelivery(body: Buffer, signature: unknown, secrets: string[]): boolean {
  return secrets.some((s) => validSparkSignature(body, signature, s));
}

/**
 * Where Webex can deliver the Service Apps' events, if anywhere: under an https `PUBLIC_URL`, or this server's
 * loopback address when Webex is itself on loopback (the emulator, in demo mode or tests). Undefined: not reachable,
 * so no webhook (onboarding a new org is then done by hand: `webex-auth service-app add`).
 */
export function serviceAppWebhookTarget(
  config: Pick<Config, 'publicUrl' | 'mode'>,
  apiBase: string,
  address: AddressInfo | string | null,
  tls: boolean,
): string | undefined {
  let loopbackApi = false;
  try {
    loopbackApi = isLoopbackHost(new URL(apiBase).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    loopbackApi = false;
  }
  const mode = loopbackApi ? 'demo' : config.mode === 'demo' ? 'custom' : config.mode;
  return webhookTarget({ publicUrl: config.publicUrl, mode }, address, tls, SERVICE_APP_WEBHOOK_PATH);
}

/**
 * Makes sure the token's owner has exactly one Service Apps webhook at `targetUrl`, active and signed with `secret`;
 * returns its id.
 * @throws {WebhookSetupError} when Webex refuses a call.
 */
export async function ensureServiceAppWebhook(
  client: WebexClient,
  spec: { targetUrl: string; secret: string },
): Promise<string> {
  const listed = await client.request('GET', '/webhooks', { query: { max: 100 } });
  if (listed.status !== 200) throw new WebhookSetupError('list webhooks', listed.status);
  const parsed = webhookList.safeParse(listed.body);
  if (!parsed.success) throw new WebhookSetupError('list webhooks', 502);
  const ours = parsed.data.items.filter((w) => w.name === SERVICE_APP_WEBHOOK_NAME && w.targetUrl === spec.targetUrl);
  const keep = ours.find((w) => w.resource === 'serviceApp' && w.event === 'all');
  for (const extra of ours) {
    if (extra === keep) continue;
    const gone = await client.request('DELETE', `/webhooks/${encodeURIComponent(extra.id)}`);
    if (gone.status !== 204 && gone.status !== 404) throw new WebhookSetupError('delete webhook', gone.status);
  }
  if (keep) {
    const updated = await client.request('PUT', `/webhooks/${encodeURIComponent(keep.id)}`, {
      body: { name: SERVICE_APP_WEBHOOK_NAME, targetUrl: spec.targetUrl, secret: spec.secret, status: 'active' },
    });
    if (updated.status !== 200) throw new WebhookSetupError('update webhook', updated.status);
    return keep.id;
  }
  const created = await client.request('POST', '/webhooks', {
    body: {
      name: SERVICE_APP_WEBHOOK_NAME,
      targetUrl: spec.targetUrl,
      resource: 'serviceApp',
      event: 'all',
      secret: spec.secret,
    },
  });
  const made = webhookSchema.safeParse(created.body);
  if (created.status !== 200 || !made.success) throw new WebhookSetupError('create webhook', created.status);
  return made.data.id;
}
