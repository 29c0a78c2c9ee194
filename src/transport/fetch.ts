/**
 * A {@link FetchLike} over undici's `Dispatcher.dispatch`, for the server's calls to Webex (token endpoint, people/me,
 * JWKS, userinfo, webhooks). Node's global `fetch` (undici's WHATWG path) spends most of a call's client CPU on
 * Request/Headers objects and web streams, and `Dispatcher.request` still on a Node stream per answer body; a handler
 * of our own skips both (receive.ts, bench/transport.mjs). The answer is collected whole (bounded by `maxBodyBytes`)
 * and handed back as a real `Response` that reads those bytes (`ReceivedResponse`).
 *
 * It sends what our own callers send — a string or URL, `redirect: 'manual'`, headers as a plain object, `Headers`
 * or pairs, a string, `URLSearchParams` or byte body, an optional `AbortSignal` — and hands anything else (redirects
 * to follow, streamed, `Blob` or `FormData` bodies, a `Request`) to the global `fetch` unchanged. Failures are
 * reported as `fetch` reports them: `TypeError('fetch failed')` with the cause, an abort with the signal's reason.
 */
import type { Dispatcher } from 'undici';
import type { FetchLike } from '../oauth/types.js';
import { AnswerReceiver, type ReceivedAnswer } from './receive.js';

/** The Fetch standard's null body statuses a final answer can have (a 1xx is none: see receive.ts). */
const NULL_BODY = new Set([204, 205, 304]);

/** A network failure as `fetch` reports one. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

/** Lower-cased header pairs from what `fetch` accepts. */
function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined || headers === null) return out;
  const pairs = headers instanceof Headers || Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [name, value] of pairs as Iterable<[string, string]>) out[name.toLowerCase()] = value;
  return out;
}

/** The body to send and its default content type, `null` for none, or `undefined` for a shape left to `fetch`. */
function bodyOf(body: RequestInit['body']): { bytes: string | Uint8Array; type?: string } | null | undefined {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return { bytes: body, type: 'text/plain;charset=UTF-8' };
  if (body instanceof URLSearchParams) {
    return { bytes: body.toString(), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  if (body instanceof Uint8Array) return { bytes: body };
  return undefined;
}

/** `Response` headers from undici's (a repeated header is an array). */
function responseHeaders(raw: Dispatcher.ResponseData['headers']): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, v]);
    else out.push([name, value]);
  }
  return out;
}

/**
 * Makes the answer: a real `Response` (status, headers, `instanceof Response`) whose body methods read the bytes
 * already received, instead of a web stream made over them and read back: that stream and its reader cost ~50 µs of
 * CPU a call, more than the rest of the call (bench/transport.mjs). `body` still gives a stream, made on first use.
 */
type MakeResponse = (
  bytes: Uint8Array<ArrayBuffer> | null,
  init: { status: number; statusText: string; headers: [string, string][] },
) => Response;

/**
 * Made on the first answer, not when this module loads: the first touch of the global `Response` loads Node's
 * built-in fetch (~50 ms of CPU and ~5 MB), which `serve` would otherwise pay at start-up for nothing.
 */
let makeResponse: MakeResponse | undefined;
function receivedResponse(): MakeResponse {
  if (makeResponse) return makeResponse;
  class ReceivedResponse extends Response {
    readonly #bytes: Uint8Array<ArrayBuffer> | null;
    readonly #headerPairs: [string, string][];
    #headers: Headers | undefined;
    #used = false;
    #stream: ReadableStream<Uint8Array<ArrayBuffer>> | null | undefined;

    constructor(
      bytes: Uint8Array<ArrayBuffer> | null,
      init: { status: number; statusText: string; headers: [string, string][] },
    ) {
      super(null, { status: init.status, statusText: init.statusText });
      this.#bytes = bytes;
      this.#headerPairs = init.headers;
    }

    // Made on first use: filling a `Headers` costs ~35 k instructions for a Webex answer's eight headers, five times
    // making the rest of the `Response`, and a successful people/me answer is read without looking at them.
    override get headers(): Headers {
      if (this.#headers === undefined) this.#headers = new Headers(this.#headerPairs);
      return this.#headers;
    }

    /** One header as `headers.get` gives it, read without making `headers` ({@link responseHeader}). */
    receivedHeader(name: string): string | null {
      if (this.#headers !== undefined) return this.#headers.get(name);
      const lower = name.toLowerCase();
      let value: string | null = null;
      for (const [n, raw] of this.#headerPairs) {
        if (n !== lower) continue;
        // As `Headers` stores it: without leading or trailing HTTP whitespace.
        const v = raw.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
        value = value === null ? v : `${value}, ${v}`;
      }
      return value;
    }

    override get bodyUsed(): boolean {
      return this.#used;
    }

    override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
      if (this.#stream === undefined) {
        const bytes = this.#bytes;
        this.#stream =
          bytes === null || bytes.length === 0
            ? null
            : new ReadableStream<Uint8Array<ArrayBuffer>>({
                start: (controller) => {
                  this.#used = true;
                  controller.enqueue(new Uint8Array(bytes));
                  controller.close();
                },
              });
      }
      return this.#stream;
    }

    #take(): Uint8Array<ArrayBuffer> {
      if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
      this.#used = true;
      return this.#bytes ?? new Uint8Array(0);
    }

    override async text(): Promise<string> {
      return Buffer.from(this.#take()).toString('utf8');
    }

    override async json(): Promise<unknown> {
      return JSON.parse(await this.text());
    }

    override async arrayBuffer(): Promise<ArrayBuffer> {
      const b = this.#take();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    }

    override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
      return new Uint8Array(this.#take());
    }

    override async blob(): Promise<Blob> {
      return new Blob([this.#take()], { type: this.headers.get('content-type') ?? '' });
    }

    override clone(): Response {
      if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
      return new ReceivedResponse(this.#bytes, {
        status: this.status,
        statusText: this.statusText,
        headers: this.#headerPairs,
      });
    }
  }
  makeResponse = (bytes, init) => new ReceivedResponse(bytes, init);
  return makeResponse;
}

/** A stale kept-alive connection the server closed as it was reused: the request never reached it. */
function isReset(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

/**
 * A {@link FetchLike} sending through the dispatcher `agent()` returns (see the module comment). Redirects are never
 * followed by it. Only a GET or HEAD is sent again, once, when its kept-alive connection turns out to be closed; any
 * other method is sent once (a code exchange is answered once).
 */
export function dispatcherFetch(
  agent: () => Dispatcher | Promise<Dispatcher>,
  options: { maxBodyBytes: number },
): FetchLike {
  const { maxBodyBytes } = options;
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
    const body = bodyOf(init.body);
    if (
      url === undefined ||
      init.redirect !== 'manual' ||
      body === undefined ||
      (url.protocol !== 'http:' && url.protocol !== 'https:')
    ) {
      return globalThis.fetch(input, init);
    }
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    const method = (init.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = { 'user-agent': 'node', ...headerRecord(init.headers) };
    if (body?.type && !('content-type' in headers)) headers['content-type'] = body.type;
    const dispatcher = await agent();
    const request: Dispatcher.DispatchOptions = {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: method as Dispatcher.HttpMethod,
      headers,
      body: body?.bytes ?? null,
    };
    let answer: ReceivedAnswer;
    for (let attempt = 0; ; attempt++) {
      const receiver = new AnswerReceiver(maxBodyBytes, signal);
      dispatcher.dispatch(request, receiver);
      try {
        answer = await receiver.answer;
        break;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const retry = attempt === 0 && !receiver.started && (method === 'GET' || method === 'HEAD') && isReset(error);
        if (!retry) throw fetchFailed(error);
      }
    }
    const { statusCode, statusText } = answer;
    // Node's Buffers are never over a SharedArrayBuffer.
    const bytes = answer.body as Uint8Array<ArrayBuffer>;
    try {
      return receivedResponse()(NULL_BODY.has(statusCode) || method === 'HEAD' ? null : bytes, {
        status: statusCode,
        statusText,
        headers: responseHeaders(answer.headers),
      });
    } catch (error) {
      // A header value or status text `Response` refuses.
      throw fetchFailed(error);
    }
  };
}
