// The bot's Webex webhook: registered once and reused across restarts, and the check of each delivery's signature.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { nextLink } from './http.mjs';

/**
 * A Webex webhook as `/v1/webhooks` shows it.
 * @typedef {{ id: string, name: string, targetUrl: string, resource: string, event: string, filter?: string,
 *   status?: string, createdBy?: string }} Webhook
 */

/**
 * What the bot wants registered.
 * @typedef {{ name: string, targetUrl: string, resource: string, event: string, filter: string, secret: string }} WantedWebhook
 */

/**
 * A call to Webex with the person's token: `(method, path or absolute URL, body?) → { body, headers }`.
 * @typedef {(method: string, path: string, body?: unknown) => Promise<{ body: any, headers: Headers }>} WebexCall
 */

/**
 * Makes sure exactly one webhook named `want.name` points at `want.targetUrl`: reuses one that fits (a PUT sets the
 * new secret and `status: active`, in case Webex turned it inactive), deletes the other ones of that name and URL,
 * and registers a new one only when none fits. Webex cannot change a webhook's resource, event or filter, so one
 * that differs there is replaced.
 * @param {WebexCall} webex
 * @param {WantedWebhook} want
 * @param {(line: string) => void} log
 * @returns {Promise<Webhook>}
 */
export async function ensureWebhook(webex, want, log) {
  /** @type {Webhook[]} */
  const all = [];
  for (let next = /** @type {string | undefined} */ ('/webhooks?max=100'); next; ) {
    const { body, headers } = await webex('GET', next);
    all.push(...(body?.items ?? []));
    next = nextLink(headers.get('link'));
  }
  const mine = all.filter((w) => w.name === want.name && w.targetUrl === want.targetUrl);
  const keep = mine.find(
    (w) => w.resource === want.resource && w.event === want.event && (w.filter ?? '') === want.filter,
  );
  for (const w of mine) {
    if (w === keep) continue;
    await webex('DELETE', `/webhooks/${encodeURIComponent(w.id)}`);
    log(`removed a surplus webhook ${w.id}`);
  }
  if (keep) {
    const { body } = await webex('PUT', `/webhooks/${encodeURIComponent(keep.id)}`, {
      name: want.name,
      targetUrl: want.targetUrl,
      secret: want.secret,
      status: 'active',
    });
    log(`reusing webhook ${keep.id}${keep.status === 'inactive' ? ' (it was inactive: turned active again)' : ''}`);
    return body;
  }
  const { body } = await webex('POST', '/webhooks', want);
  log(`registered webhook ${body.id} → ${want.targetUrl}`);
  return body;
}

/**
 * Whether `signature` (the `X-Spark-Signature` header) is the hex HMAC-SHA1 of the raw body under `secret`. The
 * comparison takes the same time wherever the first difference is.
 * @param {Buffer} rawBody
 * @param {string | string[] | undefined} signature
 * @param {string} secret
 */
export function signatureMatches(rawBody, signature, secret) {
  if (typeof signature !== 'string' || !/^[0-9a-f]{40}$/i.test(signature)) return false;
  const expected = createHmac('sha1', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
