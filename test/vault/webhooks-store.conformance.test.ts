/**
 * Store conformance of lifecycle-event webhooks (migration 007 on SQLite, 009 on PostgreSQL): endpoints, targets of
 * an event, the delivery log bounded per endpoint, and deletes — the same assertions on both stores.
 */
import { expect, it } from 'vitest';
import type { WebhookDeliveryRow, WebhookEndpointRow } from '../../src/vault/store/types.js';
import { forEachStore } from './store-runner.js';

const endpoint = (over: Partial<WebhookEndpointRow> = {}): WebhookEndpointRow => ({
  id: 'whe_1',
  ownerId: 'acc_a',
  connectionId: undefined,
  url: 'https://hooks.example.com/a',
  secretEnc: 'v1:enc',
  keyId: 'k1',
  description: undefined,
  createdAt: 1000,
  ...over,
});

const delivery = (over: Partial<WebhookDeliveryRow> = {}): WebhookDeliveryRow => ({
  id: 'whd_1',
  endpointId: 'whe_1',
  eventId: 'msg_1',
  type: 'connection.created',
  payload: '{"type":"connection.created"}',
  attempts: 0,
  lastStatus: undefined,
  lastError: undefined,
  createdAt: 1000,
  updatedAt: 1000,
  deliveredAt: undefined,
  ...over,
});

forEachStore('webhook store conformance', 'webhooks', (store) => {
  it('stores endpoints and finds the targets of an event', async () => {
    await store().insertWebhookEndpoint(endpoint());
    await store().insertWebhookEndpoint(
      endpoint({ id: 'whe_2', connectionId: 'conn_1', description: 'one', createdAt: 2000 }),
    );
    await store().insertWebhookEndpoint(endpoint({ id: 'whe_3', connectionId: 'conn_2', createdAt: 3000 }));
    await store().insertWebhookEndpoint(endpoint({ id: 'whe_b', ownerId: 'acc_b', createdAt: 4000 }));
    expect(await store().getWebhookEndpoint('whe_2')).toEqual(
      endpoint({ id: 'whe_2', connectionId: 'conn_1', description: 'one', createdAt: 2000 }),
    );
    expect(await store().getWebhookEndpoint('nope')).toBeUndefined();
    expect((await store().listWebhookEndpoints('acc_a')).map((e) => e.id)).toEqual(['whe_1', 'whe_2', 'whe_3']);
    expect((await store().listWebhookEndpoints()).map((e) => e.id)).toEqual(['whe_1', 'whe_2', 'whe_3', 'whe_b']);
    expect((await store().webhookTargets('acc_a', 'conn_1')).map((e) => e.id)).toEqual(['whe_1', 'whe_2']);
    expect((await store().webhookTargets('acc_a', undefined)).map((e) => e.id)).toEqual(['whe_1']);
    // Another owner's connection id never reaches this owner's connection endpoints.
    expect((await store().webhookTargets('acc_b', 'conn_1')).map((e) => e.id)).toEqual(['whe_b']);
  });

  it('logs deliveries, newest first, bounded per endpoint, and updates them', async () => {
    for (let i = 0; i < 7; i++) {
      await store().insertWebhookDelivery(delivery({ id: `whd_${i}`, eventId: `msg_${i}`, createdAt: 1000 + i }), 5);
    }
    await store().insertWebhookDelivery(delivery({ id: 'whd_other', endpointId: 'whe_2' }), 5);
    const log = await store().listWebhookDeliveries('whe_1', 100);
    expect(log.map((d) => d.id)).toEqual(['whd_6', 'whd_5', 'whd_4', 'whd_3', 'whd_2']);
    expect(await store().listWebhookDeliveries('whe_2', 100)).toHaveLength(1);
    expect(
      await store().updateWebhookDelivery('whd_6', {
        attempts: 2,
        lastStatus: 503,
        lastError: 'http_503',
        updatedAt: 2000,
      }),
    ).toBe(true);
    expect(
      await store().updateWebhookDelivery('whd_6', {
        attempts: 3,
        lastStatus: 204,
        lastError: undefined,
        updatedAt: 3000,
        deliveredAt: 3000,
      }),
    ).toBe(true);
    // A later failure keeps the time it was delivered.
    await store().updateWebhookDelivery('whd_6', {
      attempts: 4,
      lastStatus: 500,
      lastError: 'http_500',
      updatedAt: 4000,
    });
    expect(await store().getWebhookDelivery('whd_6')).toEqual(
      delivery({
        id: 'whd_6',
        eventId: 'msg_6',
        createdAt: 1006,
        attempts: 4,
        lastStatus: 500,
        lastError: 'http_500',
        updatedAt: 4000,
        deliveredAt: 3000,
      }),
    );
    expect(
      await store().updateWebhookDelivery('whd_0', { attempts: 1, lastStatus: 1, lastError: undefined, updatedAt: 1 }),
    ).toBe(false);
  });

  it('deletes an endpoint with its log, and a connection’s endpoints', async () => {
    expect(await store().deleteWebhookEndpoint('whe_1')).toBe(true);
    expect(await store().deleteWebhookEndpoint('whe_1')).toBe(false);
    expect(await store().listWebhookDeliveries('whe_1', 100)).toEqual([]);
    expect(await store().deleteConnectionWebhooks('conn_1')).toBe(1);
    expect(await store().listWebhookDeliveries('whe_2', 100)).toEqual([]);
    expect((await store().listWebhookEndpoints()).map((e) => e.id)).toEqual(['whe_3', 'whe_b']);
  });
});
