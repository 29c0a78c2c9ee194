/**
 * The Service Apps' Webex webhook: one `serviceApp` webhook (events `all`) per fetching integration connection,
 * registered with that connection's token (Webex sends `serviceApp` events to the developer's integration), never
 * twice (found again by name and target URL, and updated with the current secret). Its `authorized` deliveries make
 * the server onboard the new org by itself; `deauthorized` ones turn the org's connection `needs_reauth`.
 *
 * Each fetching connection's webhook has its own target URL (`/service-apps/webhook/<fetcher id>`) and its own
 * signing secret, derived from the vault's key ring (`deriveKeys`) and the fetcher's id — so every instance sharing
 * `WEBEX_AUTH_KEYS` checks deliveries with the same secret, and a person who reads their webhook's secret back from
 * `GET /webhooks` can sign deliveries for their own fetcher only, never for another owner's Service Apps. The check
 * itself is the space demo's ({@link validSparkSignature}).
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { type Config, isLoopbackHost } from '../../config.js';
import type { WebexClient } from '../../webex/client.js';
import { ensureWebhook } from '../../webex/webhooks.js';
import { webhookTarget } from '../space/target.js';
import { validSparkSignature } from '../space/webhooks.js';

/** The receiver's path (a fetching connection's webhook adds `/<fetcher id>`). */
export const SERVICE_APP_WEBHOOK_PATH = '/service-apps/webhook';
/** A fetching connection's id as it may appear in the receiver's path. */
export const FETCHER_ID = /^[A-Za-z0-9_-]{1,100}$/;
/** The webhook's name (how this server finds its own webhook again). */
export const SERVICE_APP_WEBHOOK_NAME = 'webex-auth service apps';
/** The `deriveKeys` purpose of the signing secret. */
export const SERVICE_APP_WEBHOOK_PURPOSE = 'service-app-webhook';

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

/**
 * The secrets the deliveries of fetching connection `fetcherId`'s webhook may be signed with (one per key in the ring;
 * the first is the one registered).
 */
export function webhookSecrets(deriveKeys: (purpose: string) => Buffer[], fetcherId: string): string[] {
  return deriveKeys(SERVICE_APP_WEBHOOK_PURPOSE).map((k) => createHmac('sha256', k).update(fetcherId).digest('hex'));
}

/** Whether `signature` is valid for `body` under any of `secrets`. */
export function validDelivery(body: Buffer, signature: unknown, secrets: string[]): boolean {
  return secrets.some((s) => validSparkSignature(body, signature, s));
}

/**
 * Where Webex can deliver the Service Apps' events of fetching connection `fetcherId` (without it: whether anywhere),
 * if anywhere: under an https `PUBLIC_URL`, or this server's loopback address when Webex is itself on loopback (the
 * emulator, in demo mode or tests). Undefined: not reachable, so no webhook (onboarding a new org is then done by
 * hand: `webex-auth service-app add`).
 */
export function serviceAppWebhookTarget(
  config: Pick<Config, 'publicUrl' | 'mode'>,
  apiBase: string,
  address: AddressInfo | string | null,
  tls: boolean,
  fetcherId?: string,
): string | undefined {
  let loopbackApi = false;
  try {
    loopbackApi = isLoopbackHost(new URL(apiBase).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    loopbackApi = false;
  }
  const mode = loopbackApi ? 'demo' : config.mode === 'demo' ? 'custom' : config.mode;
  const path = fetcherId ? `${SERVICE_APP_WEBHOOK_PATH}/${encodeURIComponent(fetcherId)}` : SERVICE_APP_WEBHOOK_PATH;
  return webhookTarget({ publicUrl: config.publicUrl, mode }, address, tls, path);
}

/**
 * Makes sure the token's owner has exactly one Service Apps webhook at `targetUrl`, active and signed with `secret`;
 * returns its id (webex/webhooks.ts).
 * @throws {WebhookSetupError} when Webex refuses a call.
 */
export function ensureServiceAppWebhook(
  client: WebexClient,
  spec: { targetUrl: string; secret: string },
): Promise<string> {
  // Also ours: the one shared target of earlier versions (signed with a secret every fetcher shared), deleted.
  const legacy = spec.targetUrl.replace(/\/[^/]*$/, '');
  return ensureWebhook(client, {
    name: SERVICE_APP_WEBHOOK_NAME,
    targetUrl: spec.targetUrl,
    resource: 'serviceApp',
    event: 'all',
    secret: spec.secret,
    alsoOurs: (w) => legacy.endsWith(SERVICE_APP_WEBHOOK_PATH) && w.targetUrl === legacy,
  });
}
