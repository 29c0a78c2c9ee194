/**
 * Store conformance of the proxy's call log (migration 009 on SQLite, 011 on PostgreSQL): batches across connections,
 * newest first, bounded per connection — and the vault's queue over it (proxy-calls.ts): `record` returns at once,
 * `recent` writes what is queued first, a full queue drops calls instead of growing. The same assertions on both.
 */
import { expect, it } from 'vitest';
import { createProxyCalls, PROXY_CALLS_KEEP } from '../../src/vault/proxy-calls.js';
import type { ProxyCallRow } from '../../src/vault/store/types.js';
import { forEachStore } from './store-runner.js';

const row = (over: Partial<ProxyCallRow> = {}): ProxyCallRow => ({
  connectionId: 'conn_a',
  at: 1000,
  method: 'GET',
  template: 'people/me',
  status: 200,
  durationMs: 12.4,
  trackingId: 'ROUTER_1',
  ...over,
});

forEachStore('proxy call log conformance', 'proxycalls', (store) => {
  it('keeps a batch across connections, newest first, durations in whole ms, no tracking id as undefined', async () => {
    await store().insertProxyCalls([
      row(),
      row({ connectionId: 'conn_b', method: 'POST', template: 'messages', status: 201, at: 1001 }),
      row({ at: 1002, template: 'rooms/{id}', status: 404, trackingId: undefined, durationMs: 3 }),
    ]);
    expect(await store().listProxyCalls('conn_a', 10)).toEqual([
      row({ at: 1002, template: 'rooms/{id}', status: 404, trackingId: undefined, durationMs: 3 }),
      row({ durationMs: 12 }),
    ]);
    expect(await store().listProxyCalls('conn_b', 10)).toEqual([
      row({ connectionId: 'conn_b', method: 'POST', template: 'messages', status: 201, at: 1001, durationMs: 12 }),
    ]);
    expect(await store().listProxyCalls('conn_a', 1)).toHaveLength(1);
    expect(await store().listProxyCalls('conn_none', 10)).toEqual([]);
  });

  it('keeps the newest `keep` per connection (default 100), leaving other connections alone', async () => {
    const many = Array.from({ length: 130 }, (_, i) => row({ connectionId: 'conn_c', at: 10_000 + i }));
    await store().insertProxyCalls(many);
    const kept = await store().listProxyCalls('conn_c', 1000);
    expect(kept).toHaveLength(PROXY_CALLS_KEEP);
    expect(kept[0]?.at).toBe(10_129);
    expect(kept.at(-1)?.at).toBe(10_030);
    await store().insertProxyCalls([row({ connectionId: 'conn_c', at: 20_000 })], 5);
    expect((await store().listProxyCalls('conn_c', 1000)).map((r) => r.at)).toEqual([
      20_000, 10_129, 10_128, 10_127, 10_126,
    ]);
    expect(await store().listProxyCalls('conn_b', 10)).toHaveLength(1);
  });

  it('a batch holding more than `keep` calls of a connection keeps the newest of each, interleaved or not', async () => {
    await store().insertProxyCalls([row({ connectionId: 'conn_i', at: 1 }), row({ connectionId: 'conn_j', at: 2 })], 3);
    const batch = Array.from({ length: 10 }, (_, i) =>
      row({ connectionId: i % 3 ? 'conn_i' : 'conn_j', at: 100 + i, trackingId: `T${i}` }),
    );
    await store().insertProxyCalls(batch, 3);
    expect((await store().listProxyCalls('conn_i', 10)).map((r) => r.at)).toEqual([108, 107, 105]);
    // conn_j had 4 calls in the batch (0, 3, 6, 9): the newest 3, its older stored call gone.
    expect((await store().listProxyCalls('conn_j', 10)).map((r) => r.at)).toEqual([109, 106, 103]);
    // A batch under `keep` still trims what was stored before it.
    await store().insertProxyCalls([row({ connectionId: 'conn_j', at: 200 })], 3);
    expect((await store().listProxyCalls('conn_j', 10)).map((r) => r.at)).toEqual([200, 109, 106]);
  });

  it("the vault's queue: record returns at once, recent writes the queue first, order kept", async () => {
    let now = 50_000;
    const log = createProxyCalls({ store: store(), clock: () => now++ });
    for (let i = 0; i < 30; i++) {
      log.record({
        connectionId: 'conn_q',
        method: i % 2 ? 'POST' : 'GET',
        template: 'messages',
        status: 200,
        seconds: 0.0025,
        trackingId: `T${i}`,
      });
    }
    // Nothing written yet (the batch waits for its timer or a read).
    expect(await store().listProxyCalls('conn_q', 100)).toEqual([]);
    const recent = await log.recent('conn_q', 5);
    expect(recent.map((c) => c.trackingId)).toEqual(['T29', 'T28', 'T27', 'T26', 'T25']);
    expect(recent[0]).toEqual({
      at: 50_029,
      method: 'POST',
      template: 'messages',
      status: 200,
      durationMs: 3,
      trackingId: 'T29',
    });
    expect(await store().listProxyCalls('conn_q', 100)).toHaveLength(30);
    expect(log.dropped()).toBe(0);
    await log.close();
  });

  it('a full queue drops calls (counted) rather than growing; what was queued is still written', async () => {
    const log = createProxyCalls({ store: store(), clock: () => 1 });
    // 500 queued calls start a write; the next 10,000 fill the queue while it runs, the rest are dropped.
    for (let i = 0; i < 10_600; i++) {
      log.record({ connectionId: 'conn_f', method: 'GET', template: 'x', status: 200, seconds: 0, trackingId: 'T' });
    }
    expect(log.dropped()).toBeGreaterThan(0);
    await log.flush();
    await log.flush();
    expect(await store().listProxyCalls('conn_f', 1000)).toHaveLength(PROXY_CALLS_KEEP);
    await log.close();
  });
});
