/**
 * Webhooks out: `POST WEBHOOK_URL {event, connectionId, at}` signed with `Webex-Auth-Signature: <hex HMAC-SHA256 of
 * the body with WEBHOOK_SECRET>`. Delivery runs in the background with retries and backoff, so a slow or dead
 * receiver never delays a refresh. The body names no person and carries no token.
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
  /** First backoff delay in ms, doubled each retry (default 500). */
  baseDelayMs?: number;
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

  async function deliver(body: string, event: VaultEvent): Promise<void> {
    const url = options.url as string;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'webex-auth' };
    if (options.secret) headers[SIGNATURE_HEADER] = signWebhook(body, options.secret);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let status = 0;
      let retryAfter: number | undefined;
      try {
        const res = await fetchImpl(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        status = res.status;
        await res.body?.cancel().catch(() => {});
        if (res.ok) return;
        const ra = Number(res.headers.get('retry-after'));
        retryAfter = Number.isFinite(ra) && ra > 0 ? ra : undefined;
        // 4xx other than 408/429 will not get better by retrying.
        if (status < 500 && status !== 408 && status !== 429) break;
      } catch {
        status = 0;
      }
      if (attempt === attempts) break;
      const delay = retryAfter !== undefined ? Math.min(retryAfter * 1000, 60_000) : base * 2 ** (attempt - 1);
      await new Promise((r) => setTimeout(r, delay * (0.8 + Math.random() * 0.4)).unref());
    }
    options.logger?.warn({ event }, 'webhook delivery failed');
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
