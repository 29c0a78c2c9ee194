/**
 * Webhooks out: `POST WEBHOOK_URL {event, connectionId, at}` signed with `Webex-Auth-Signature: <hex HMAC-SHA256 of
 * the body with WEBHOOK_SECRET>`. Delivery runs in the background with retries and backoff, so a slow or dead
 * receiver never delays a refresh. The body names no person and carries no token. Redirects are never followed (a
 * signed POST goes to the configured address or nowhere): a 3xx is a failed delivery.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { FetchLike } from '../oauth/types.js';
import type { VaultEvent } from './types.js';

/** The signature header's name. */
export const SIGNATURE_HEADER = 'Webex-Auth-Signature';

/** Computes the signature of a webhook body (what a receiver recomputes and compares, timing-safe). */
export function signWebhook(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Options of {@link createWebhookSender}. */
export interface WebhookSenderOptions {
  url: string | undefined;
  secret: string | undefined;
  fetch?: FetchLike;
  logger?: Logger | undefined;
  /** Attempts per event (default 5). */
  attempts?: number;
  /** First backoff ceiling in ms, doubled each retry, fully jittered (default 500). */
  baseDelayMs?: number;
  /** The longest wait between attempts in ms (default 60 000); a longer `Retry-After` ends the delivery. */
  maxDelayMs?: number;
}

/** Where a redirect pointed, for the log: origin and path only (a query may carry a secret). */
function redirectTarget(location: string | null, base: string): string | undefined {
  if (!location) return undefined;
  try {
    const url = new URL(location, base);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(unreadable Location)';
  }
}

/** Sends vault events; `send` returns at once, `drain()` waits for deliveries in flight (for shutdown and tests). */
export interface WebhookSender {
  send(event: VaultEvent, connectionId: string, at: number): void;
  drain(): Promise<void>;
}

/** Creates a sender; without a URL it does nothing. */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const inFlight = new Set<Promise<void>>();
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 60_000;

  async function deliver(body: string, event: VaultEvent): Promise<void> {
    const url = options.url as string;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'webex-auth' };
    if (options.secret) headers[SIGNATURE_HEADER] = signWebhook(body, options.secret);
    // Loaded on the first delivery (a module the OAuth client shares; the `token` bundle imports it lazily).
    const { backoffDelay, retryAfterOf } = await import('../oauth/retry-after.js');
    let status = 0;
    let redirectedTo: string | undefined;
    let retryAfterMs: number | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      retryAfterMs = undefined;
      try {
        const res = await fetchImpl(url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        await res.body?.cancel().catch(() => {});
        if (res.ok) return;
        if (status >= 300 && status < 400) {
          redirectedTo = redirectTarget(res.headers.get('location'), url);
          break;
        }
        retryAfterMs = retryAfterOf(res);
        // 4xx other than 408/429 will not get better by retrying.
        if (status < 500 && status !== 408 && status !== 429) break;
      } catch {
        status = 0;
      }
      if (attempt === attempts) break;
      const next = backoffDelay(attempt, { baseMs: base, capMs: cap, retryAfterMs });
      if (!next.wait) break;
      await new Promise((r) => setTimeout(r, next.ms).unref());
    }
    options.logger?.warn(
      {
        event,
        status,
        ...(redirectedTo ? { redirectedTo } : {}),
        ...(retryAfterMs !== undefined && retryAfterMs > cap ? { retryAfterMs } : {}),
      },
      status >= 300 && status < 400 ? 'webhook delivery failed: redirects are not followed' : 'webhook delivery failed',
    );
  }

  return {
    send(event, connectionId, at) {
      if (!options.url) return;
      const body = JSON.stringify({ event, connectionId, at: new Date(at).toISOString() });
      const p = deliver(body, event).catch(() => {});
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
