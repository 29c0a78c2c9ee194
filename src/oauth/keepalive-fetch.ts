/**
 * A {@link FetchLike} over `node:http`/`node:https` with keep-alive agents, for the server's calls to Webex (token
 * endpoint, people/me, JWKS). Node's global `fetch` (undici) spends ~0.5 ms of CPU per call on WHATWG machinery
 * (streams, AbortSignal, Request/Response objects); this answers the same calls for a fraction of that, which is most
 * of the server's cost of a code exchange (bench/flow.mjs, bench/limits.md).
 *
 * It handles what our own callers send — a string or URL, `redirect: 'manual'`, headers as a plain object or
 * `Headers`, a string or `URLSearchParams` body, an optional `AbortSignal` — and hands anything else (redirects to
 * follow, streamed or `FormData` bodies, a `Request`) to the global `fetch` unchanged. TLS certificates are verified
 * as by `fetch` (the `https` defaults). The answer body is read whole (bounded by `maxBodyBytes`) into a small
 * `Response`-compatible object: `status`, `ok`, `headers`, `text()`, `json()`, `arrayBuffer()`, `body`.
 */
import http from 'node:http';
import https from 'node:https';
import type { FetchLike } from './types.js';

/** Options of {@link createKeepAliveFetch}. */
export interface KeepAliveFetchOptions {
  /** Sockets per origin at most (default 64). */
  maxSockets?: number;
  /** Largest answer body accepted, in bytes (default 16 MiB); a larger one fails like a network error. */
  maxBodyBytes?: number;
  /** Idle time on a request's socket before it fails (default 300 s, undici's headers/body timeout). */
  timeoutMs?: number;
  /**
   * How long an unused kept-alive socket stays open (default 4 s): shorter than the 5 s a Node server keeps one, so
   * that a request rarely goes out on a socket the server is closing at that moment.
   */
  freeSocketTimeoutMs?: number;
}

/** A {@link FetchLike} with keep-alive sockets, and `close()` to drop its idle sockets. */
export interface KeepAliveFetch extends FetchLike {
  close(): void;
}

const STATUS_TEXT = http.STATUS_CODES;

/** The buffered answer: the subset of `Response` the OAuth and REST clients use, plus `body` and `clone()`. */
class BufferedResponse {
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly redirected = false;
  readonly type = 'basic';
  readonly #raw: http.IncomingHttpHeaders;
  readonly #bytes: Buffer;
  #headers: Headers | undefined;
  #used = false;

  constructor(url: string, status: number, raw: http.IncomingHttpHeaders, bytes: Buffer) {
    this.url = url;
    this.status = status;
    this.statusText = STATUS_TEXT[status] ?? '';
    this.#raw = raw;
    this.#bytes = bytes;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  /** Built on first use: most answers are read for their body only. */
  get headers(): Headers {
    if (!this.#headers) {
      const h = new Headers();
      for (const [name, value] of Object.entries(this.#raw)) {
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) h.append(name, v);
        else h.append(name, value);
      }
      this.#headers = h;
    }
    return this.#headers;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** A stream of the (already received) body, for callers that only cancel it or read it as a stream. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#bytes.length === 0) return null;
    const bytes = this.#bytes;
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(bytes));
        controller.close();
      },
    });
  }

  #take(): Buffer {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#bytes;
  }

  async text(): Promise<string> {
    return this.#take().toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.#take().toString('utf8'));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(this.#take());
  }

  clone(): BufferedResponse {
    if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BufferedResponse(this.url, this.status, this.#raw, this.#bytes);
  }
}

/** Plain header pairs from what `fetch` accepts, or `undefined` for a shape handed to the global fetch. */
function headerRecord(headers: RequestInit['headers']): Record<string, string> | undefined {
  if (headers === undefined || headers === null) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers);
  if (Array.isArray(headers)) return undefined;
  return headers as Record<string, string>;
}

/** The request body as a string, `null` for none, or `undefined` for a shape handed to the global fetch. */
function bodyString(body: RequestInit['body']): string | null | undefined {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  return undefined;
}

/** A network failure as `fetch` reports one: `TypeError('fetch failed')` with the cause. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

/**
 * Creates a keep-alive {@link FetchLike} (see the module comment for what it handles itself). Redirects are never
 * followed by it: a request that asks to follow them goes to the global `fetch`.
 */
export function createKeepAliveFetch(options: KeepAliveFetchOptions = {}): KeepAliveFetch {
  const maxSockets = options.maxSockets ?? 64;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 300_000;
  // An agent's `timeout` applies to its free sockets (each request sets its own below): idle ones are closed by us.
  const agentOptions = {
    keepAlive: true,
    maxSockets,
    scheduling: 'lifo',
    timeout: options.freeSocketTimeoutMs ?? 4000,
  };
  const agents = {
    'http:': new http.Agent(agentOptions as http.AgentOptions),
    'https:': new https.Agent(agentOptions as https.AgentOptions),
  };

  function once(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | null,
    signal: AbortSignal | null | undefined,
  ): Promise<{ response: BufferedResponse } | { retry: true }> {
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const outgoing: Record<string, string> = { 'user-agent': 'node', ...headers };
      if (body !== null) outgoing['content-length'] = String(Buffer.byteLength(body));
      let settled = false;
      const onAbort = () => req.destroy(signal?.reason ?? new DOMException('This operation was aborted', 'AbortError'));
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        f();
      };
      // An abort is reported with the signal's reason, as fetch does; anything else as `fetch failed`.
      const fail = (error: unknown) => finish(() => reject(signal?.aborted ? signal.reason : fetchFailed(error)));
      const req = (secure ? https : http).request(
        url,
        { method, headers: outgoing, agent: secure ? agents['https:'] : agents['http:'] },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBodyBytes) {
              res.destroy(new Error(`answer body over ${maxBodyBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
            finish(() =>
              resolve({ response: new BufferedResponse(url.href, res.statusCode ?? 0, res.headers, bytes) }),
            );
          });
          res.on('error', fail);
          res.on('close', () => {
            if (!res.complete) fail(new Error('answer cut short'));
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed while idle fails at once. Node's advice: retry on a fresh socket,
        // but only a request that is safe to repeat (never a code exchange, which Webex answers once).
        const idempotent = method === 'GET' || method === 'HEAD';
        if (!signal?.aborted && idempotent && req.reusedSocket && error.code === 'ECONNRESET') {
          finish(() => resolve({ retry: true }));
          return;
        }
        fail(error);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body ?? undefined);
    });
  }

  const fetchImpl = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const headers = headerRecord(init.headers);
    const body = bodyString(init.body);
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
    if (
      url === undefined ||
      init.redirect !== 'manual' ||
      headers === undefined ||
      body === undefined ||
      (url.protocol !== 'http:' && url.protocol !== 'https:')
    ) {
      return globalThis.fetch(input, init);
    }
    if (init.signal?.aborted) throw init.signal.reason;
    const method = (init.method ?? 'GET').toUpperCase();
    for (let attempt = 0; ; attempt++) {
      const r = await once(url, method, headers, body, init.signal);
      if ('response' in r) return r.response as unknown as Response;
      if (attempt > 0) throw fetchFailed(new Error('connection reset'));
    }
  };
  return Object.assign(fetchImpl, {
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}
