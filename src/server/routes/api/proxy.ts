/**
 * `ANY /api/v1/connections/{id}/proxy/{path}`: calls Webex as the connection, so a bot never holds its token
 * (design.md, "Token broker API"; SECURITY.md, "Webex proxy").
 *
 * - `{path}` is checked first (proxy-path.ts: no `.`/`..`/empty segments, encoded slashes, backslashes or control
 *   characters → 400); the key needs the `proxy` permission, this connection, and its path prefixes and methods (403).
 * - The target is only ever the connection's API base + `/{path}` + the query as sent; in team mode that base must be
 *   Webex's, the server's own `WEBEX_API_BASE` (a demo's emulator) or listed in `ALLOWED_API_BASES` (proxy-target.ts,
 *   403).
 * - End-to-end headers pass both ways; hop-by-hop ones, `Host`, `Authorization` (the broker key), `Cookie`,
 *   `Forwarded`/`X-Forwarded-*` do not; `Authorization: Bearer <the connection's token>` is set. The answer streams
 *   back unchanged (Webex's errors too), with `Link` URLs under the API base rewritten to the proxy (link-rewrite.ts).
 * - A 401 from Webex → one refresh shared with every concurrent caller (`renewRefused`, not a forced refresh) and one
 *   retry, when the body was buffered (≤ `PROXY_BUFFER_LIMIT`); a 429 is passed through, or waited out once when its
 *   `Retry-After` is at most `PROXY_MAX_RETRY_WAIT`. Bodies above `PROXY_MAX_BODY` → 413. The proxy's own errors are
 *   problem+json (no answer headers within `PROXY_HEADERS_TIMEOUT` → 504). No token or body is ever logged.
 *
 * Forwarding is `request` on the server's one undici `Agent` (src/transport/): a keep-alive connection pool per
 * origin, request and answer bodies as Node streams, and none of `fetch`'s WHATWG machinery (Request/Response/Headers
 * objects, web streams), which costs ~0.5 ms of CPU per call (bench/transport.mjs). `@fastify/reply-from` is built on
 * the same client and would add its own header and retry handling, which this route needs its own way (the 401
 * refresh, the Link rewrite); bench/proxy.mjs measures the result against a bare node:http forwarder.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, LogLevel } from 'fastify';
import type { Dispatcher } from 'undici';
import type { Config } from '../../../config.js';
import { parseRetryAfter } from '../../../oauth/retry-after.js';
import { createTransport } from '../../../transport/index.js';
import { readBody } from '../../../transport/read-body.js';
import { BoundedCache } from '../../../vault/bounded-cache.js';
import type { VaultMetrics } from '../../../vault/metrics.js';
import type { FreshToken, KeyPermission, Vault } from '../../../vault/types.js';
import { rewriteLinks } from './link-rewrite.js';
import { sendProblem } from './problem.js';
import { BodyTooLarge, hasBody, NO_BODY, readProxyBody } from './proxy-body.js';
import { parseProxyPath, pathAllowed, pathTemplate } from './proxy-path.js';
import { apiBaseAllowed } from './proxy-target.js';
import { proxySchema } from './schemas.js';

/** What the proxy counts per call (never a body or token); the metrics and a "recent calls" store can take it. */
export interface ProxyCall {
  method: string;
  /** The path with ids replaced by `{id}` (proxy-path.ts `pathTemplate`). */
  template: string;
  status: number;
  /** Seconds from the start of the request to Webex's answer headers. */
  seconds: number;
  trackingId: string | undefined;
  connectionId: string;
}

/** The settings the proxy reads (defaults as loadConfig's when a hand-made configuration lacks them). */
export type ProxyConfig = Partial<
  Pick<
    Config,
    | 'accessMode'
    | 'allowedApiBases'
    | 'apiBase'
    | 'publicUrl'
    | 'proxyBufferLimit'
    | 'proxyMaxBody'
    | 'proxyMaxRetryWait'
    | 'proxyHeadersTimeout'
    | 'proxyBodyTimeout'
  >
>;

/** Options of {@link proxyRoutes}: the broker's own key check and error mapping, so both answer alike. */
export interface ProxyOptions {
  /** The vault; its `proxyCalls` (when it has one) keeps each call for the connection page's "Recent calls". */
  vault: Pick<Vault, 'connections' | 'integrations'> & Partial<Pick<Vault, 'proxyCalls'>>;
  config: ProxyConfig;
  /**
   * The broker's onRequest key check as a callback hook (sets `request.apiKey`, or answers 401/429): the token route's,
   * which admits a key the verified-key cache holds without a promise (broker.ts `authenticateHook`).
   */
  authenticate: (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;
  /** 403 unless the key has `permission`. */
  permitted: (request: FastifyRequest, reply: FastifyReply, permission: KeyPermission) => boolean;
  /** 403 unless the key was made for connection `id`. */
  inScope: (request: FastifyRequest, reply: FastifyReply, id: string) => boolean;
  /** Maps a vault failure (not_found, needs_reauth, …) to its problem response. */
  vaultProblem: (reply: FastifyReply, err: unknown) => FastifyReply;
  /** The route's log level (the broker's hot-route level), if not the app's. */
  logLevel?: LogLevel | undefined;
  /** Where each call is counted for `/metrics` (a histogram per method, path template and status). */
  metrics?: Pick<VaultMetrics, 'observeProxyCall'> | undefined;
  /** Called once per answered call. */
  onCall?: ((call: ProxyCall) => void) | undefined;
  /** The HTTP client, made on the first call (default: a transport of this plugin's own, closed with the app). */
  dispatcher?: () => Promise<Dispatcher>;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): never passed on, either way. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];
/** Request headers not sent on: hop-by-hop ones, and those the proxy sets or must not pass on. */
const DROP_REQUEST = new Set([
  ...HOP_BY_HOP,
  'expect',
  'host',
  'authorization',
  'cookie',
  'content-length',
  'forwarded',
  'x-real-ip',
]);
/** Answer headers not sent back: hop-by-hop ones, and Webex's cookies. */
const DROP_RESPONSE = new Set([...HOP_BY_HOP, 'set-cookie']);

/** The methods a proxied call may use (those a key may be limited to). */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Answers up to this many bytes (by Content-Length) are sent back in one write rather than streamed. */
const SMALL_ANSWER = 64 * 1024;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const NONE: readonly string[] = Object.freeze([]);
/** The longest path whose metrics label is held (Webex's paths with ids are ~100–200 characters). */
const MAX_HELD_PATH = 256;

/** Names listed in a `Connection` header (also hop-by-hop). */
function connectionTokens(value: string | string[] | undefined): readonly string[] {
  // The values nearly every call carries list no header besides `Keep-Alive`, which is dropped anyway.
  if (!value || value === 'keep-alive' || value === 'close') return NONE;
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * The end-to-end request headers to send on, as undici's flat name/value list (a repeated header once per value): no
 * object is built for undici to walk again.
 */
function forwardHeaders(request: FastifyRequest, token: string): string[] {
  const headers = request.headers;
  const listed = connectionTokens(headers.connection);
  const out: string[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || DROP_REQUEST.has(name) || name.startsWith('x-forwarded-') || listed.includes(name)) {
      continue;
    }
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  out.push('authorization', `Bearer ${token}`);
  return out;
}

/**
 * Puts the end-to-end answer headers on `reply` (each straight on it, no object in between), `Link` rewritten to the
 * proxy (its base made only for a `Link`).
 */
function putAnswerHeaders(
  reply: FastifyReply,
  headers: Dispatcher.ResponseData['headers'],
  apiBase: string,
  proxyBaseOf: () => string,
): void {
  const listed = connectionTokens(headers.connection);
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || DROP_RESPONSE.has(name) || listed.includes(name)) continue;
    if (name !== 'link') {
      reply.header(name, value);
      continue;
    }
    const proxyBase = proxyBaseOf();
    reply.header(
      name,
      Array.isArray(value)
        ? value.map((v) => rewriteLinks(v, apiBase, proxyBase))
        : rewriteLinks(value, apiBase, proxyBase),
    );
  }
}

/** Where a connection's calls go: its API base, whether the proxy may call it, and its parts. */
interface Target {
  base: string;
  allowed: boolean;
  origin: string;
  /** The base's path without a trailing slash (`/v1`). */
  basePath: string;
}

const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** A transport of the plugin's own, closed with the app, for a proxy given none. */
function ownDispatcher(app: FastifyInstance): () => Promise<Dispatcher> {
  const own = createTransport();
  app.addHook('onClose', () => own.close());
  return own.dispatcher;
}

/** The proxy plugin; the broker registers it with its own key check (broker.ts). */
export const proxyRoutes: FastifyPluginAsync<ProxyOptions> = async (app: FastifyInstance, options) => {
  const { vault, authenticate, permitted, inScope, vaultProblem } = options;
  const callLog = vault.proxyCalls;
  const accessMode = options.config.accessMode ?? 'team';
  const allowedApiBases = options.config.allowedApiBases ?? [];
  const ownApiBase = options.config.apiBase;
  const publicUrl = options.config.publicUrl;
  const bufferLimit = options.config.proxyBufferLimit ?? 1_048_576;
  const maxBody = options.config.proxyMaxBody ?? 104_857_600;
  const maxRetryWaitMs =
    options.config.proxyMaxRetryWait === undefined ? undefined : options.config.proxyMaxRetryWait * 1000;
  // A Webex that sends no answer headers within PROXY_HEADERS_TIMEOUT is answered 504; one that stalls mid-body longer
  // than PROXY_BODY_TIMEOUT has the answer cut (its headers are already sent). Set per call: the agent is shared.
  const headersTimeout = (options.config.proxyHeadersTimeout ?? 30) * 1000;
  const bodyTimeout = (options.config.proxyBodyTimeout ?? 60) * 1000;
  // undici loads on the first proxied call, not at start-up (src/transport/undici.ts); once it has, calls use it as it
  // is, without awaiting the loader's promise again.
  const client = options.dispatcher ?? ownDispatcher(app);
  let loaded: Dispatcher | undefined;
  // A connection's API base never changes (it is its integration's, and a connection keeps its integration): kept
  // per connection id so a call reads no extra row. Bounded; a deleted connection still fails at its token (the token
  // cache forgets a deleted connection, and getFreshToken finds none).
  const bases = new BoundedCache<string, Target>(10_000);
  // Each path's metrics label, made once: bots call the same few paths again and again.
  const templates = new BoundedCache<string, string>(1_000);

  // The body is never parsed: it is forwarded as sent (buffered or streamed by readProxyBody).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  /** Where the connection's calls go (read when not held in `bases`), or undefined when there is no such connection. */
  async function readTarget(id: string): Promise<Target | undefined> {
    const connection = await vault.connections.get(id);
    if (!connection) return undefined;
    const integration = await vault.integrations.get(connection.integrationId);
    if (!integration) return undefined;
    const base = integration.apiBase.replace(/\/+$/, '');
    const allowed = apiBaseAllowed(base, { accessMode, allowedApiBases, apiBase: ownApiBase });
    const url = allowed ? new URL(base) : undefined;
    const target = { base, allowed, origin: url?.origin ?? '', basePath: url?.pathname.replace(/\/+$/, '') ?? '' };
    bases.set(id, target);
    return target;
  }

  app.route<{ Params: { id: string } }>({
    method: [...METHODS],
    url: '/api/v1/connections/:id/proxy/*',
    exposeHeadRoute: false,
    onRequest: authenticate,
    // The connection id is checked by the schema (schemas.ts); `{path}` by parseProxyPath, from the raw request line.
    schema: proxySchema,
    config: { responses: ({ proxyResponses }) => proxyResponses },
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    handler: async (request, reply) => {
      const started = performance.now();
      const { id } = request.params;
      const path = parseProxyPath(request.raw.url ?? '', `/api/v1/connections/${id}/proxy/`);
      if ('refused' in path) return sendProblem(reply, 400, 'invalid_request', path.refused);
      if (!permitted(request, reply, 'proxy') || !inScope(request, reply, id)) return reply;
      const key = request.apiKey;
      if (key?.methods && !key.methods.includes(request.method)) {
        return sendProblem(reply, 403, 'forbidden', `This API key may not use ${request.method} through the proxy.`);
      }
      if (!pathAllowed(path.decoded, key?.paths)) {
        return sendProblem(reply, 403, 'forbidden', 'This API key may not call this path through the proxy.');
      }

      let target: Target | undefined;
      let token: FreshToken;
      try {
        // The held target and token (the usual case) are taken without a promise; anything else reads the vault.
        target = bases.get(id) ?? (await readTarget(id));
        if (!target) return sendProblem(reply, 404, 'not_found', 'No such connection.');
        if (!target.allowed) {
          return sendProblem(
            reply,
            403,
            'forbidden',
            "This connection's API base is not Webex's; list it in ALLOWED_API_BASES to proxy to it.",
          );
        }
        token = vault.connections.cachedFreshToken?.(id, 60) ?? (await vault.connections.getFreshToken(id, 60));
      } catch (err) {
        return vaultProblem(reply, err);
      }

      const body = hasBody(request.raw) ? await readProxyBody(request.raw, bufferLimit, maxBody) : NO_BODY;
      if (body.kind === 'too_large') {
        return sendProblem(reply, 413, 'payload_too_large', `The body may be at most ${maxBody} bytes.`);
      }
      const { origin, basePath, base } = target;
      const send = (accessToken: string): Promise<Dispatcher.ResponseData> => {
        const call: Dispatcher.RequestOptions = {
          origin,
          path: `${basePath}/${path.raw}${path.search}`,
          method: request.method as Dispatcher.HttpMethod,
          headers: forwardHeaders(request, accessToken),
          body: body.kind === 'buffered' ? body.bytes : body.kind === 'streamed' ? body.stream : null,
          headersTimeout,
          bodyTimeout,
        };
        if (loaded) return loaded.request(call);
        return client().then((made) => {
          loaded = made;
          return made.request(call);
        });
      };

      let answer: Dispatcher.ResponseData;
      try {
        answer = await send(token.accessToken);
        const again = body.kind !== 'streamed';
        if (answer.statusCode === 401 && again) {
          let renewed: FreshToken;
          try {
            renewed = await vault.connections.renewRefused(id, token.accessToken);
          } catch (err) {
            await answer.body.dump();
            return vaultProblem(reply, err);
          }
          // The same token (refreshed moments ago, see renewRefused): Webex's 401 goes back as it is.
          if (renewed.accessToken !== token.accessToken) {
            await answer.body.dump();
            token = renewed;
            answer = await send(token.accessToken);
          }
        } else if (answer.statusCode === 429 && again && maxRetryWaitMs !== undefined) {
          const waitMs = parseRetryAfter(single(answer.headers['retry-after']));
          if (waitMs !== undefined && waitMs <= maxRetryWaitMs) {
            await answer.body.dump();
            await sleep(waitMs);
            answer = await send(token.accessToken);
          }
        }
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          return sendProblem(reply, 413, 'payload_too_large', `The body may be at most ${maxBody} bytes.`);
        }
        // A network failure: logged by name and code only (never a header or body).
        const e = err as { name?: string; code?: string };
        // undici's HeadersTimeoutError, by its stable code (undici itself loads on the first call).
        if (e.code === 'UND_ERR_HEADERS_TIMEOUT') {
          request.log.warn({ err: { name: e.name, code: e.code } }, 'proxy: Webex did not answer in time');
          return sendProblem(reply, 504, 'upstream_timeout', 'Webex did not answer in time; try again later.', {
            'retry-after': '5',
          });
        }
        request.log.warn({ err: { name: e.name, code: e.code } }, 'proxy: Webex unreachable');
        return sendProblem(reply, 502, 'upstream_unavailable', 'Webex could not be reached; try again later.', {
          'retry-after': '5',
        });
      }

      if (options.metrics || options.onCall || callLog) {
        let template = templates.get(path.decoded);
        if (template === undefined) {
          template = pathTemplate(path.decoded);
          // Only usual paths are held: a key cannot fill the cache with 1,000 paths of 16 KB each.
          if (path.decoded.length <= MAX_HELD_PATH) templates.set(path.decoded, template);
        }
        const seconds = (performance.now() - started) / 1000;
        options.metrics?.observeProxyCall(request.method, template, answer.statusCode, seconds);
        const counted: ProxyCall = {
          method: request.method,
          template,
          status: answer.statusCode,
          seconds,
          trackingId: single(answer.headers.trackingid),
          connectionId: id,
        };
        // Queued, written in batches off this path (vault/proxy-calls.ts).
        callLog?.record(counted);
        options.onCall?.(counted);
      }
      // Behind a reverse proxy the request's own protocol and host may be the internal ones: PUBLIC_URL is the truth.
      const proxyBase = () => `${publicUrl ?? `${request.protocol}://${request.host}`}/api/v1/connections/${id}/proxy`;
      reply.code(answer.statusCode);
      putAnswerHeaders(reply, answer.headers, base, proxyBase);
      if (answer.statusCode === 204 || answer.statusCode === 304) {
        await answer.body.dump();
        return reply.send();
      }
      // A small answer of known length (most Webex JSON) is read whole and written with its headers in one go: a
      // stream costs Fastify's piping and a write per chunk, a third of the proxy's CPU per call (bench/proxy.mjs).
      // Anything larger, or of unknown length (a file download), streams.
      const length = Number(single(answer.headers['content-length']) ?? Number.NaN);
      if (length <= SMALL_ANSWER) return reply.send(await readBody(answer.body, SMALL_ANSWER));
      return reply.send(answer.body);
    },
  });
};
