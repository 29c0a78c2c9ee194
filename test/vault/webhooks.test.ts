/** Webhooks out: signature, retries with backoff (honouring Retry-After), giving up on 4xx, never blocking. */
import { describe, expect, it } from 'vitest';
import type { FetchLike } from '../../src/oauth/types.js';
import { createWebhookSender, signWebhook } from '../../src/vault/webhooks.js';

function receiver(statuses: number[], retryAfter?: string) {
  const calls: Array<{ body: string; signature: string | null; at: number }> = [];
  const fetch: FetchLike = async (_input, init) => {
    calls.push({
      body: String(init?.body),
      signature: new Headers(init?.headers).get('webex-auth-signature'),
      at: Date.now(),
    });
    const status = statuses.shift() ?? 204;
    return new Response(status === 204 ? null : 'no', {
      status,
      headers: retryAfter && status === 429 ? { 'retry-after': retryAfter } : {},
    });
  };
  return { fetch, calls };
}

describe('webhooks', () => {
  it('retries 5xx/429 and network errors with the same signed body, then stops', async () => {
    const r = receiver([500, 429, 204], '1');
    let failNetwork = true;
    const fetch: FetchLike = async (input, init) => {
      if (failNetwork) {
        failNetwork = false;
        throw new TypeError('fetch failed');
      }
      return r.fetch(input, init);
    };
    const sender = createWebhookSender({
      url: 'http://hooks.test/',
      secret: 'whsec-0123456789abcdef',
      fetch,
      baseDelayMs: 1,
    });
    sender.send('connection.refreshed', 'conn_1', 0);
    await sender.drain();
    expect(r.calls).toHaveLength(3);
    expect(new Set(r.calls.map((c) => c.body)).size).toBe(1);
    const body = r.calls[0]?.body as string;
    expect(JSON.parse(body)).toEqual({
      event: 'connection.refreshed',
      connectionId: 'conn_1',
      at: '1970-01-01T00:00:00.000Z',
    });
    expect(r.calls.every((c) => c.signature === signWebhook(body, 'whsec-0123456789abcdef'))).toBe(true);
    // The 429's Retry-After: 1 was honoured before the last attempt.
    expect((r.calls[2]?.at ?? 0) - (r.calls[1]?.at ?? 0)).toBeGreaterThanOrEqual(750);
  });

  it('gives up on a 4xx other than 408/429, and send() never waits for delivery', async () => {
    const r = receiver([400]);
    const sender = createWebhookSender({
      url: 'http://hooks.test/',
      secret: undefined,
      fetch: r.fetch,
      baseDelayMs: 1,
    });
    sender.send('connection.needs_reauth', 'conn_2', 0);
    expect(r.calls.length).toBeLessThanOrEqual(1);
    await sender.drain();
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0]?.signature).toBeNull();
  });

  it('does nothing without a URL', async () => {
    const r = receiver([]);
    const sender = createWebhookSender({ url: undefined, secret: undefined, fetch: r.fetch });
    sender.send('connection.created', 'conn_3', 0);
    await sender.drain();
    expect(r.calls).toHaveLength(0);
  });
});
