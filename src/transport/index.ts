/**
 * The server's one transport for its calls out: the OAuth and REST clients' `fetch` (token endpoint, people/me,
 * JWKS, userinfo, webhooks) and the Webex proxy's `Dispatcher`, over one undici `Agent` (one keep-alive pool per
 * origin) that loads on the first call. oauth/ and webex/ import no transport: `buildApp` and `serve` pass them
 * `transport.fetch`.
 */
import type { Agent, Dispatcher } from 'undici';
import type { FetchLike } from '../oauth/types.js';
import { dispatcherFetch } from './fetch.js';
import { createAgent } from './undici.js';

/** Options of {@link createTransport}. */
export interface TransportOptions {
  /** Connections per origin at most (default 128). */
  connections?: number;
  /** Largest answer body `fetch` accepts, in bytes (default 16 MiB); a larger one fails like a network error. */
  maxBodyBytes?: number;
  /** No answer headers within this many ms fails a call (default 30 s; the proxy sets its own per call). */
  headersTimeoutMs?: number;
  /** No answer body data for this many ms fails a call (default 60 s; the proxy sets its own per call). */
  bodyTimeoutMs?: number;
  /**
   * How long an unused kept-alive connection stays open (default 4 s): shorter than the 5 s a Node server keeps one,
   * so that a request rarely goes out on a connection the server is closing at that moment.
   */
  keepAliveMs?: number;
}

/** The shared transport: a `fetch`, the `Dispatcher` it runs on, and `close()`. */
export interface Transport {
  /** A `fetch` returning real `Response`s (see fetch.ts for what it sends itself). */
  readonly fetch: FetchLike;
  /** The shared undici `Agent`, loading undici on the first call. */
  readonly dispatcher: () => Promise<Dispatcher>;
  /** Closes the agent's connections (after their requests end); calls after this fail. */
  close(): Promise<void>;
}

/** A transport whose undici `Agent` is made on its first call. */
export function createTransport(options: TransportOptions = {}): Transport {
  let agent: Agent | undefined;
  let loading: Promise<Agent> | undefined;
  const dispatcher = (): Promise<Agent> => {
    loading ??= createAgent({
      connections: options.connections ?? 128,
      headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
      bodyTimeoutMs: options.bodyTimeoutMs ?? 60_000,
      keepAliveMs: options.keepAliveMs ?? 4_000,
    }).then((made) => {
      agent = made;
      return made;
    });
    return loading;
  };
  return {
    // Once loaded, the agent is used as it is: no promise per call.
    fetch: dispatcherFetch(() => agent ?? dispatcher(), { maxBodyBytes: options.maxBodyBytes ?? 16 * 1024 * 1024 }),
    dispatcher,
    async close() {
      if (loading) await (await loading).close();
    },
  };
}
