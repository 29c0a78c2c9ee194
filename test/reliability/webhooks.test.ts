/**
 * Webhook receiver down: 5 refreshes fire `connection.refreshed` while nothing listens, then the receiver comes up
 * and answers 503 first → all 5 events arrive, correctly signed, within the retry budget. 50 events in the long suite.
 */
import { describe, expect, it } from 'vitest';
import { webhookScenario } from './webhooks.js';

describe('webhook deliveries when the receiver is down', () => {
  it('5 events, receiver refusing then answering 503 → all 5 delivered, signed', async () => {
    expect(await webhookScenario(5)).toMatchObject({ events: 5, delivered: 5, badSignatures: 0 });
  });
});
