/**
 * The proxy's call log: every call through `…/connections/{id}/proxy/{path}` is kept (method, path template, status,
 * duration, Webex's tracking id — never a body or token), the newest {@link PROXY_CALLS_KEEP} per connection, for
 * the connection page's "Recent calls".
 *
 * Off the proxy's hot path: `record` only pushes onto an in-memory queue; the queue is written in one batch per
 * {@link FLUSH_MS} (or as soon as it holds {@link FLUSH_AT} calls), never awaited by a call. The queue is bounded:
 * while the store cannot keep up (or is down), calls beyond {@link MAX_QUEUE} are dropped and counted, never
 * blocking the proxy or growing memory. Reading (`recent`) writes what is queued first, so the page is current.
 */
import type { Logger } from 'pino';
import type { Clock } from '../oauth/types.js';
import { StampedCache } from './stamped-cache.js';
import { PROXY_CALLS_KEEP } from './store/sql-proxy-calls.js';
import type { ProxyCallRow, Store } from './store/types.js';

export { PROXY_CALLS_KEEP };

/** One proxied call as the proxy reports it. */
export interface ProxyCallRecord {
  connectionId: string;
  method: string;
  /** The path with ids replaced by `{id}`. */
  template: string;
  status: number;
  /** Seconds from the start of the request to Webex's answer headers. */
  seconds: number;
  trackingId: string | undefined;
}

/** A kept call, as the connection page shows it: the stored row without its connection id. */
export type RecentProxyCall = Omit<ProxyCallRow, 'connectionId'>;

/** The vault's proxy call log (`vault.proxyCalls`). */
export interface ProxyCalls {
  /** Queues a call to be kept (returns at once; never throws). */
  record(call: ProxyCallRecord): void;
  /** The connection's newest calls, newest first (at most {@link PROXY_CALLS_KEEP}). */
  recent(connectionId: string, limit?: number): Promise<RecentProxyCall[]>;
  /** Writes what is queued. */
  flush(): Promise<void>;
  /** Calls dropped because the queue was full (since start). */
  dropped(): number;
  /** Writes what is queued and stops the timer. */
  close(): Promise<void>;
}

/** Milliseconds between two batch writes. */
const FLUSH_MS = 1000;
/** A batch is written at once when this many calls are queued. */
const FLUSH_AT = 500;
/** Calls queued at most; more are dropped until a write drains the queue. */
const MAX_QUEUE = 10_000;

/** The call log over `store`. */
export function createProxyCalls(d: {
  store: Pick<Store, 'insertProxyCalls' | 'listProxyCalls' | 'changeStamp'>;
  clock: Clock;
  logger?: Logger | undefined;
}): ProxyCalls {
  let queue: ProxyCallRow[] = [];
  let droppedCalls = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  /** Each connection page's calls (by id and limit), reused while no write to proxy_calls has been seen. */
  const recentCalls = new StampedCache<string, readonly RecentProxyCall[]>(d.store, 'proxyCalls');

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    // One write at a time, in order: a batch waits for the one before it.
    writing = writing.then(async () => {
      if (!queue.length) return;
      const batch = queue;
      queue = [];
      try {
        await d.store.insertProxyCalls(batch);
      } catch (err) {
        // Lost, not retried: a call log is not worth holding the proxy's memory for.
        d.logger?.warn({ calls: batch.length, error: (err as Error).name }, 'proxy calls not kept');
      }
    });
    return writing;
  }

  return {
    record(call) {
      if (queue.length >= MAX_QUEUE) {
        droppedCalls++;
        return;
      }
      queue.push({
        connectionId: call.connectionId,
        at: d.clock(),
        method: call.method,
        template: call.template,
        status: call.status,
        durationMs: call.seconds * 1000,
        trackingId: call.trackingId,
      });
      if (queue.length >= FLUSH_AT) void flush();
      else if (!timer) {
        timer = setTimeout(() => void flush(), FLUSH_MS);
        timer.unref();
      }
    },
    async recent(connectionId, limit = PROXY_CALLS_KEEP) {
      // What is queued is written first (its write moves the stamp), so the answer holds every call recorded before.
      await flush();
      const held = await recentCalls.get(`${limit}|${connectionId}`, async () =>
        (await d.store.listProxyCalls(connectionId, limit)).map(({ connectionId: _, ...call }) => call),
      );
      // A copy: the held list is shared by every caller.
      return held ? [...held] : [];
    },
    flush,
    dropped: () => droppedCalls,
    close: flush,
  };
}
