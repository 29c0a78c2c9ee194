/**
 * A thin Webex REST client: people, rooms (paginated), memberships, messages, and a raw `request` for a "try it"
 * console. 401/403/404/429/5xx become {@link WebexApiError} with the tracking id; 429 is retried after `Retry-After`
 * (else a jittered backoff) up to `maxRetries` times, never waiting longer than `maxRetryWaitMs`: a longer
 * `Retry-After` fails at once with it in the error's `retryAfter`. The access token is only ever sent to the `apiBase` origin (also when following `Link`).
 */
import type { z } from 'zod';
import { backoffDelay, retryAfterOf, toSeconds } from '../oauth/retry-after.js';
import type { FetchLike } from '../oauth/types.js';
import { errorDescription, WebexApiError } from './errors.js';
import { nextLink } from './link.js';
import {
  type CreateMembership,
  type CreateMessage,
  listSchema,
  type Membership,
  type Message,
  membershipSchema,
  messageSchema,
  type Person,
  personSchema,
  type Room,
  roomSchema,
} from './schemas.js';

/** Options of {@link WebexClient}. */
export interface WebexClientOptions {
  /** e.g. `https://webexapis.com/v1` or an emulator's `http://127.0.0.1:P/v1`. */
  apiBase: string;
  accessToken: string;
  fetch?: FetchLike;
  /** How many times a 429 is retried after waiting `Retry-After` (default 2). */
  maxRetries?: number;
  /**
   * Seconds of the first backoff on a 429 without `Retry-After` (default 5, as wxc_sdk): the wait is drawn in
   * [0, this·2^(retry−1)] (full jitter).
   */
  defaultRetryAfter?: number;
  /**
   * The longest wait before a retry, in ms (default 30 000: a page request must not hang). A `Retry-After` beyond it
   * is not waited out: the call fails at once with {@link WebexApiError.retryAfter} set.
   */
  maxRetryWaitMs?: number;
  /** A random number in [0, 1) for the backoff's jitter (injectable for tests). */
  random?: () => number;
  /** Waits `ms` milliseconds (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds for `durationMs` (injectable for tests). */
  now?: () => number;
}

/** Query/body of a raw request. */
export interface RawRequest {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

/** The answer of a raw request, for showing to a person: never throws for an HTTP error status. */
export interface RawResponse {
  status: number;
  body: unknown;
  trackingId: string | undefined;
  durationMs: number;
}

/** Query of `GET /rooms`. */
export interface ListRoomsQuery {
  max?: number;
  type?: 'direct' | 'group';
  sortBy?: 'id' | 'lastactivity' | 'created';
  teamId?: string;
}

/** Query of `GET /memberships`. */
export interface ListMembershipsQuery {
  roomId?: string;
  personId?: string;
  personEmail?: string;
  max?: number;
}

/** Query of `GET /messages` (`roomId` is required by Webex). */
export interface ListMessagesQuery {
  roomId: string;
  max?: number;
  mentionedPeople?: string;
  parentId?: string;
  before?: string;
}

/** Methods a raw request may use. */
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A Webex REST client acting with one access token. */
export class WebexClient {
  readonly #base: string;
  readonly #origin: string;
  readonly #token: string;
  readonly #fetch: FetchLike;
  readonly #maxRetries: number;
  readonly #defaultRetryAfter: number;
  readonly #maxRetryWaitMs: number;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;

  constructor(opts: WebexClientOptions) {
    this.#base = opts.apiBase.replace(/\/+$/, '');
    this.#origin = new URL(this.#base).origin;
    this.#token = opts.accessToken;
    this.#fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#maxRetries = opts.maxRetries ?? 2;
    this.#defaultRetryAfter = opts.defaultRetryAfter ?? 5;
    this.#maxRetryWaitMs = opts.maxRetryWaitMs ?? 30_000;
    this.#random = opts.random ?? Math.random;
    this.#sleep = opts.sleep ?? sleepMs;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The person the access token belongs to. Needs `spark:people_read` (or `spark:all`). */
  peopleMe(): Promise<Person> {
    return this.#json('GET', '/people/me', personSchema);
  }

  /** A person by id. */
  getPerson(personId: string): Promise<Person> {
    return this.#json('GET', `/people/${encodeURIComponent(personId)}`, personSchema);
  }

  /** The rooms the person is in, following `Link: rel="next"` until absent. Needs `spark:rooms_read`. */
  listRooms(q: ListRoomsQuery = {}): AsyncIterable<Room> {
    return this.#paginate('/rooms', { ...q }, roomSchema);
  }

  /** Memberships (of a room, or of the person). Needs `spark:memberships_read`. */
  listMemberships(q: ListMembershipsQuery = {}): AsyncIterable<Membership> {
    return this.#paginate('/memberships', { ...q }, membershipSchema);
  }

  /** Adds a person to a room. Needs `spark:memberships_write`. */
  createMembership(body: CreateMembership): Promise<Membership> {
    return this.#json('POST', '/memberships', membershipSchema, { body });
  }

  /** Messages of a room, newest first. Needs `spark:messages_read`. */
  listMessages(q: ListMessagesQuery): AsyncIterable<Message> {
    return this.#paginate('/messages', { ...q }, messageSchema);
  }

  /** Posts a message. Needs `spark:messages_write`. */
  createMessage(body: CreateMessage): Promise<Message> {
    return this.#json('POST', '/messages', messageSchema, { body });
  }

  /**
   * A raw call for a "try it" console: `path` is relative to the API base (`/people/me`); HTTP error statuses are
   * returned, not thrown (no 429 retry either, so the person sees what Webex said). Only network failures throw.
   */
  async request(method: string, path: string, req: RawRequest = {}): Promise<RawResponse> {
    const verb = method.toUpperCase();
    if (!METHODS.has(verb)) {
      throw new WebexApiError({ method: 'REQUEST', path: '(invalid)', status: 0, description: `Unsupported method.` });
    }
    const started = this.#now();
    const response = await this.#send(verb, this.#url(path, req.query, verb), req.body);
    const text = await response.text().catch(() => '');
    let body: unknown = text;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: return the text
    }
    return {
      status: response.status,
      body,
      trackingId: response.headers.get('trackingid') ?? undefined,
      durationMs: this.#now() - started,
    };
  }

  /**
   * A raw call answered with Webex's own `Response` (status, headers, body unread), for `webex-auth api`: `path` is
   * relative to the API base as in {@link request} and may carry a query string; `headers` go with the client's own,
   * but `Authorization` is always the client's. No 429 retry; only network failures throw.
   */
  send(method: string, path: string, req: RawRequest & { headers?: Record<string, string> } = {}): Promise<Response> {
    const verb = method.toUpperCase();
    if (!METHODS.has(verb)) {
      throw new WebexApiError({ method: 'REQUEST', path: '(invalid)', status: 0, description: `Unsupported method.` });
    }
    return this.#send(verb, this.#url(path, req.query, verb), req.body, req.headers);
  }

  /** Builds an absolute URL under the API base (a repeated base path such as `/v1` is dropped); rejects anything that would leave it. */
  #url(path: string, query?: RawRequest['query'], method = 'GET'): URL {
    const invalid = (description: string) => new WebexApiError({ method, path: '(invalid)', status: 0, description });
    if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\')) {
      throw invalid('The path must start with a single "/".');
    }
    const basePath = new URL(this.#base).pathname.replace(/\/+$/, '');
    const relative =
      basePath && (path === basePath || path.startsWith(`${basePath}/`)) ? path.slice(basePath.length) : path;
    const url = new URL(this.#base + relative);
    if (url.origin !== this.#origin) throw invalid('The path leaves the API base.');
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  /** The path relative to the base, for messages and scope lookups. */
  #pathOf(url: URL): string {
    const basePath = new URL(this.#base).pathname.replace(/\/+$/, '');
    return url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) || '/' : url.pathname;
  }

  async #send(method: string, url: URL, body: unknown, extra: Record<string, string> = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [name, value] of Object.entries(extra)) headers[name.toLowerCase()] = value;
    headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    try {
      return await this.#fetch(url.toString(), {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        redirect: 'manual',
      });
    } catch (cause) {
      throw new WebexApiError({
        method,
        path: this.#pathOf(url),
        status: 0,
        description: `No answer from ${url.host}`,
        cause,
      });
    }
  }

  /** Sends with 429 retries (each wait capped) and throws {@link WebexApiError} for any non-2xx answer. */
  async #call(method: string, url: URL, body?: unknown): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const response = await this.#send(method, url, body);
      if (response.ok) return response;
      const retryAfterMs = retryAfterOf(response);
      const retryAfter = retryAfterMs === undefined ? undefined : toSeconds(retryAfterMs);
      if (response.status === 429 && attempt <= this.#maxRetries) {
        const next = backoffDelay(attempt, {
          baseMs: this.#defaultRetryAfter * 1000,
          capMs: this.#maxRetryWaitMs,
          retryAfterMs,
          random: this.#random,
        });
        // Webex asked for longer than a caller may be kept waiting: fail now, saying when to come back.
        if (next.wait) {
          await response.body?.cancel().catch(() => undefined);
          await this.#sleep(next.ms);
          continue;
        }
      }
      throw await this.#error(method, url, response, retryAfter);
    }
  }

  async #error(method: string, url: URL, response: Response, retryAfter: number | undefined): Promise<WebexApiError> {
    const text = await response.text().catch(() => '');
    let env: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') env = parsed as Record<string, unknown>;
    } catch {
      // 429 pages are text/html; the status says it all
    }
    const description = errorDescription(env);
    return new WebexApiError({
      method,
      path: this.#pathOf(url),
      status: response.status,
      trackingId:
        response.headers.get('trackingid') ?? (typeof env.trackingId === 'string' ? env.trackingId : undefined),
      description,
      retryAfter,
    });
  }

  async #parse<T>(method: string, url: URL, response: Response, schema: z.ZodType<T>): Promise<T> {
    const json: unknown = await response.json().catch(() => undefined);
    const r = schema.safeParse(json);
    if (r.success) return r.data;
    const fields = [...new Set(r.error.issues.map((i) => i.path.join('.') || '(body)'))].slice(0, 5).join(', ');
    throw new WebexApiError({
      method,
      path: this.#pathOf(url),
      status: response.status,
      trackingId: response.headers.get('trackingid') ?? undefined,
      description: `Unexpected response body: missing or invalid ${fields}`,
    });
  }

  async #json<T>(method: string, path: string, schema: z.ZodType<T>, req: RawRequest = {}): Promise<T> {
    const url = this.#url(path, req.query);
    return this.#parse(method, url, await this.#call(method, url, req.body), schema);
  }

  async *#paginate<T>(path: string, query: RawRequest['query'], item: z.ZodType<T>): AsyncGenerator<T> {
    let url: URL | undefined = this.#url(path, query);
    const page = listSchema(item);
    while (url) {
      const response = await this.#call('GET', url);
      const link = nextLink(response.headers.get('link'), url.toString());
      const { items } = (await this.#parse('GET', url, response, page)) as { items: T[] };
      yield* items;
      if (!link) break;
      const next = new URL(link);
      if (next.origin !== this.#origin) {
        throw new WebexApiError({
          method: 'GET',
          path: this.#pathOf(url),
          status: response.status,
          description: 'The next-page link points outside the API base; not following it with the access token.',
        });
      }
      url = next;
    }
  }
}
