/**
 * Webhooks out, in the Standard Webhooks format: signed with the `standardwebhooks` library's scheme, one
 * `webhook-id` kept by every retry, retries with backoff (honouring Retry-After), giving up on 4xx, never blocking.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { FetchLike } from '../../src/oauth/types.js';
import { createWebhookSender, webhookSecretOf } from '../../src/vault/webhooks.js';

const SECRET = 'whsec-0123456789abcdef';

function receiver(statuses: number[], retryAfter?: string) {
  const calls: Array<{ body: string; headers: Record<string, string>; at: number }> = [];
  const fetch: FetchLike = async (_input, init) => {
    calls.push({ body: String(init?.body), headers: Object.fromEntries(new Headers(init?.headers)), at: Date.now() });
    const status = statuses.shift() ?? 204;
    return new Response(status === 204 ? null : 'no', {
      status,
      headers: retryAfter && status === 429 ? { 'retry-after': retryAfter } : {},
    });
  };
  return { fetch, calls };
}

describe('webhooks', () => {
  it('retries 5xx/429 and network errors with the same body and webhook-id, each attempt verifiable', async () => {
    const r = receiver([500, 429, 204], '1');
    let failNetwork = true;
    const fetch: FetchLike = async (input, init) => {
      if (failNetwork) {
        failNetwork = false;
        throw new TypeError('fetch failed');
      }
      return r.fetch(input, init);
    };
    const sender = createWebhookSender({ url: 'http://hooks.test/', secret: SECRET, fetch, baseDelayMs: 1 });
    sender.send('connection.refreshed', 'conn_1', 0, { reason: 'keep-alive' });
    await sender.drain();
    expect(r.calls).toHaveLength(3);
    expect(new Set(r.calls.map((c) => c.body)).size).toBe(1);
    expect(new Set(r.calls.map((c) => c.headers['webhook-id'])).size).toBe(1);
    expect(r.calls[0]?.headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9_-]{24}$/);
    expect(r.calls[0]?.headers['webex-auth-signature']).toBeUndefined();
    const hook = new Webhook(webhookSecretOf(SECRET));
    for (const c of r.calls) {
      expect(c.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
      expect(hook.verify(c.body, c.headers)).toEqual({
        type: 'connection.refreshed',
        timestamp: '1970-01-01T00:00:00.000Z',
        data: { connectionId: 'conn_1', reason: 'keep-alive' },
      });
    }
    // A tampered body fails.
    const c0 = r.calls[0] as { body: string; headers: Record<string, string> };
    expect(() => hook.verify(c0.body.replace('conn_1', 'conn_2'), c0.headers)).toThrow();
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
    // Without WEBHOOK_SECRET (never in production) the event is sent unsigned, still with its id and timestamp.
    expect(r.calls[0]?.headers['webhook-signature']).toBeUndefined();
    expect(r.calls[0]?.headers['webhook-id']).toMatch(/^msg_/);
    expect(r.calls[0]?.headers['webhook-timestamp']).toMatch(/^\d+$/);
  });

  it('does nothing without a URL', async () => {
    const r = receiver([]);
    const sender = createWebhookSender({ url: undefined, secret: undefined, fetch: r.fetch });
    sender.send('connection.created', 'conn_3', 0);
    await sender.drain();
    expect(r.calls).toHaveLength(0);
  });

  it('takes a whsec_ secret as it is', async () => {
    const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    expect(webhookSecretOf(secret)).toBe(secret);
    const r = receiver([]);
    const sender = createWebhookSender({ url: 'http://hooks.test/', secret, fetch: r.fetch });
    sender.send('key.created', 'key_1', 0);
    await sender.drain();
    const c = r.calls[0] as { body: string; headers: Record<string, string> };
    expect(new Webhook(secret).verify(c.body, c.headers)).toMatchObject({
      type: 'key.created',
      data: { keyId: 'key_1' },
    });
  });
});
