/**
 * The token broker API (design.md, "Token broker API"), as a Fastify plugin:
 *
 * - `GET /api/v1/connections` — the connections this API key may use, without token material;
 * - `GET /api/v1/connections/:id/token?min_validity=60` — an access token valid for at least that many seconds,
 *   refreshed first when needed (single flight across processes, see src/vault/refresher.ts);
 * - `POST /api/v1/connections/:id/refresh`, `DELETE /api/v1/connections/:id`;
 * - `GET /api/v1/openapi.json`.
 *
 * Auth is `Authorization: Bearer wak_…` (an API key made for given connections, with permissions: `token` for the token
 * route, `refresh` and `delete` for theirs; any key may list); errors are problem+json with a stable `code`; each key
 * has a rate limit, and each client address a budget of failed key attempts; bodies are limited to 1 KiB. Input is
 * validated by the routes' zod schemas (schemas.ts; with responses.ts, which documents the answers, they make the
 * OpenAPI document), so bad input is a 400 naming the field, never a 500.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../../../config.js';
import { API_KEY_LENGTH } from '../../../vault/api-keys.js';
import { TokenCapError } from '../../../vault/cap.js';
import type { VaultMetrics } from '../../../vault/metrics.js';
import type {
  ApiKeyRecord,
  AuditAction,
  Connection,
  FreshToken,
  KeyPermission,
  NeedsReauthReason,
  Vault,
} from '../../../vault/types.js';
import { VaultError, VaultKeyError } from '../../../vault/types.js';
import { recordAudit } from '../../audit.js';
import { sendKeyUnavailable } from '../../key-unavailable.js';
import { addressKey } from '../../session.js';
import { createKeyGate, type GuessLimitOptions } from './guess-limit.js';
import { memoValidatorCompiler } from './memo-validator.js';
import { openApiRoutes, type ResponseSchemas } from './openapi.js';
import { sendProblem } from './problem.js';
import { type ProxyConfig, type ProxyOptions, proxyRoutes } from './proxy.js';
import { createRateLimiter, type RateLimitOptions } from './ratelimit.js';
import { connectionIdParams, guestBody, tokenQuery } from './schemas.js';
import { createTokenBodies, JSON_CONTENT_TYPE } from './token-body.js';

/** The vault calls the broker makes. */
export type BrokerVault = Pick<Vault, 'connections' | 'apiKeys' | 'audit'>;

/** Options of {@link brokerRoutes}. */
export interface BrokerOptions {
  vault: BrokerVault;
  config: Pick<Config, 'keepaliveDays'> & ProxyConfig;
  /** The Webex proxy's extras (a call counter, a test's HTTP client); the proxy runs when the vault has integrations. */
  proxy?: Pick<ProxyOptions, 'onCall' | 'dispatcher'>;
  /** Per-key rate limit (default burst 120, 20/s). */
  rateLimit?: RateLimitOptions;
  /** Failed API-key attempts per client address (IPv6 per /64) (default burst 20, then one per 2 s). */
  guessLimit?: GuessLimitOptions;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The broker API key of this request, once authenticated. */
    apiKey?: ApiKeyRecord;
  }
}

/** The API view of a connection. */
export function connectionJson(c: Connection) {
  return {
    id: c.id,
    integration_id: c.integrationId,
    kind: c.kind ?? 'integration',
    person: { id: c.personId, email: c.personEmail, display_name: c.displayName },
    ...(c.orgId ? { org_id: c.orgId } : {}),
    ...(c.appId ? { app_id: c.appId } : {}),
    scopes: c.scopes,
    status: c.status,
    needs_reauth_reason: c.needsReauthReason ?? null,
    access_token_expires_at: new Date(c.accessExpiresAt).toISOString(),
    refresh_token_expires_at: new Date(c.refreshExpiresAt).toISOString(),
    last_refresh_at: c.lastRefreshAt ? new Date(c.lastRefreshAt).toISOString() : null,
    last_error: c.lastError ?? null,
    // A refresh failing on 5xx/429/network backs off (vault/backoff.ts); the connection stays active meanwhile.
    refresh_failing: c.refreshFailing === true,
    next_refresh_attempt_at: c.refreshFailing && c.nextAttemptAt ? new Date(c.nextAttemptAt).toISOString() : null,
  };
}

/** The length of `Bearer wak_…` with one space. */
const BEARER_KEY_LENGTH = 'Bearer '.length + API_KEY_LENGTH;

/** The key of an `Authorization: Bearer <key>` header (any case, any spacing), or undefined. */
function bearerKey(header: string | undefined): string | undefined {
  return header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
}

/**
 * Whether `err` is the database going away (PostgreSQL restarting, connections cut, server not up yet): SQLSTATE class
 * 08 (connection exception) and 57P01–57P03 (shutdown, cannot connect now), or a socket-level failure. The next query
 * reconnects, so the caller should retry: 503 + Retry-After, not 500.
 */
function storeUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^08|^57P0[123]$|^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/.test(code)) return true;
  return typeof e?.message === 'string' && /^Connection terminated/.test(e.message);
}

/** What a `needs_reauth` answer tells the caller, per reason (the reason is also the problem's `reason` member). */
const NEEDS_REAUTH_DETAIL: Record<NeedsReauthReason, string> = {
  refresh_refused:
    'Webex refused the refresh token (refresh_refused). The person must authorize again in the web app (or `webex-auth login`).',
  revoked_at_webex: 'The grant was revoked at Webex (revoked_at_webex). The person must authorize again.',
  deauthorized:
    'The Service App was deauthorized in this org (deauthorized). An admin must authorize it again in Control Hub.',
};

/** Maps a vault failure to its problem response. */
function vaultProblem(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof VaultError) {
    switch (err.code) {
      case 'not_found':
        return sendProblem(reply, 404, 'not_found', 'No such connection.');
      case 'needs_reauth': {
        const reason = err.reason ?? 'refresh_refused';
        return sendProblem(reply, 409, 'needs_reauth', NEEDS_REAUTH_DETAIL[reason], {}, { reason });
      }
      case 'forbidden':
        return sendProblem(reply, 403, 'forbidden', err.message);
      case 'upstream_unavailable':
        return sendProblem(reply, 503, 'upstream_unavailable', 'Webex is unavailable; try again later.', {
          'retry-after': String(err.retryAfter ?? 5),
        });
      case 'refresh_failed':
        return sendProblem(reply, 502, 'upstream_error', err.message);
      case 'invalid_request':
        return sendProblem(reply, 400, 'invalid_request', err.message);
      case 'rate_limited':
        // A forced refresh inside FORCED_REFRESH_MIN_INTERVAL (the vault's message names the interval, no secret).
        return sendProblem(reply, 429, 'rate_limited', err.message, {
          'retry-after': String(Math.max(1, Math.ceil(err.retryAfter ?? 1))),
        });
      default:
        return sendProblem(reply, 409, 'invalid_request', err.message);
    }
  }
  if (err instanceof VaultKeyError) {
    // Data under a key another process rotated to and this one has not loaded: temporary, so 503 naming the key.
    if (err.keyId) return sendKeyUnavailable(reply, err.keyId);
    reply.request.log.error({ err: { name: err.name, message: err.message } }, 'vault key error');
    return sendProblem(reply, 500, 'vault_key', 'The server cannot decrypt its token store; check WEBEX_AUTH_KEYS.');
  }
  if (storeUnavailable(err)) {
    reply.request.log.warn(
      { err: { name: (err as Error).name, message: (err as Error).message } },
      'token store unavailable',
    );
    return sendProblem(reply, 503, 'upstream_unavailable', 'The token store is unavailable; try again shortly.', {
      'retry-after': '1',
    });
  }
  reply.request.log.error({ err }, 'broker request failed');
  return sendProblem(reply, 500, 'internal', 'The server failed while handling this request.');
}

/** The broker API plugin; register it with `app.register(brokerRoutes, { vault, config })`. */
export const brokerRoutes: FastifyPluginAsync<BrokerOptions> = async (app: FastifyInstance, options) => {
  const { vault } = options;
  const limit = createRateLimiter(options.rateLimit);
  const gate = createKeyGate((key) => vault.apiKeys.verify(key), options.guessLimit);
  const tokenBodies = createTokenBodies();
  // The token route is the hot path (bots ask before every Webex call): at the default `info` level its two
  // per-request lines ("incoming request", "request completed") would be most of the log and a measurable share of
  // its CPU, so that route logs at `warn` — its errors and warnings still appear, and LOG_LEVEL=debug (or trace) keeps
  // every request line. Other levels are left as configured.
  const hotRouteLogLevel = app.log.level === 'info' ? 'warn' : undefined;

  // Requests are validated by the routes' zod schemas, in this scope only (the pages keep Fastify's own validation).
  // The answers are documented by the schemas each route names in `config.responses` (responses.ts, made with the
  // OpenAPI document; test/broker/openapi.test.ts checks real answers against them), never run per request: should a
  // route here get a `response` schema, it is still serialized as Fastify does without one.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler(async (error, _request, reply) => {
    const e = error as { statusCode?: number; code?: string; validation?: unknown; message?: string };
    if (e.validation) return sendProblem(reply, 400, 'invalid_request', e.message);
    if (e.statusCode === 413) return sendProblem(reply, 413, 'payload_too_large', 'The body may be at most 1 KiB.');
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return sendProblem(reply, e.statusCode, 'invalid_request', 'The request could not be understood.');
    }
    return vaultProblem(reply, error);
  });

  /**
   * Authenticates the API key and applies its rate limit. Every well-formed key costs the same to check (a SHA-256 and
   * one indexed look-up), so a near miss cannot be told from a random key by timing; a client address that sent too
   * many wrong keys lately gets 429 for further wrong ones (SECURITY.md, "Broker API"), while a valid key is served.
   */
  async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const presented = bearerKey(request.headers.authorization);
    const checked = presented ? await gate.check(presented, addressKey(request.ip)) : { record: undefined };
    if (checked.wait !== undefined) {
      return sendProblem(reply, 429, 'rate_limited', 'Too many wrong API keys from this address; try again later.', {
        'retry-after': String(checked.wait),
      });
    }
    const record = checked.record;
    if (!record) {
      return sendProblem(reply, 401, 'unauthorized', 'Send `Authorization: Bearer wak_…` with a broker API key.', {
        'www-authenticate': 'Bearer realm="webex-auth"',
      });
    }
    admit(request, reply, record);
  }

  /** Applies the key's rate limit: the key becomes the request's, or 429 is sent. */
  function admit(request: FastifyRequest, reply: FastifyReply, record: ApiKeyRecord): void {
    const keyWait = limit(record.id);
    if (keyWait > 0) {
      sendProblem(reply, 429, 'rate_limited', 'This API key sent too many requests.', {
        'retry-after': String(keyWait),
      });
      return;
    }
    request.apiKey = record;
  }

  /**
   * {@link authenticate} as a callback hook, for the routes bots call on every request: a key the verified-key cache
   * holds (api-keys.ts `cached`: the same SHA-256, change-stamp and age checks as `verify`) is admitted without a
   * promise or a microtask; any other key goes through {@link authenticate} (store read, guess limit).
   */
  function authenticateHook(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    const header = request.headers.authorization;
    // The form bots send, `Bearer ` and a key's 47 characters, is looked up without the pattern: a cache hit means it
    // hashed to a verified key's hash, so it is that key, the one the pattern would have taken. Any other form (another
    // case or spacing), or a miss, takes the pattern (bearerKey, here or in authenticate).
    const presented =
      header !== undefined && header.length === BEARER_KEY_LENGTH && header.startsWith('Bearer ')
        ? header.slice(7)
        : bearerKey(header);
    const record = presented ? vault.apiKeys.cached?.(presented) : undefined;
    if (record) {
      admit(request, reply, record);
      done();
      return;
    }
    authenticate(request, reply).then(() => done(), done);
  }

  /** 403 naming the permission unless the key has it. */
  function permitted(request: FastifyRequest, reply: FastifyReply, permission: KeyPermission): boolean {
    if (request.apiKey?.permissions.includes(permission)) return true;
    sendProblem(reply, 403, 'forbidden', `This API key lacks the "${permission}" permission.`);
    return false;
  }

  /** Records what a key did, through the server's one audit helper (its failure never fails the request). */
  function audit(request: FastifyRequest, action: AuditAction, target: string, ownerId?: string, detail?: string) {
    const key = request.apiKey as ApiKeyRecord;
    return recordAudit({ vault }, request, {
      actor: { kind: 'key', id: key.id, label: key.prefix },
      action,
      target,
      ownerId: ownerId ?? key.ownerId,
      ...(detail ? { detail } : {}),
    });
  }

  /** 403 unless the key was made for this connection. */
  function inScope(request: FastifyRequest, reply: FastifyReply, id: string): boolean {
    if (request.apiKey?.connectionIds.includes(id)) return true;
    sendProblem(reply, 403, 'forbidden', 'This API key was not made for this connection.');
    return false;
  }

  /** Sends the token route's answer, pre-serialized once per token and second (token-body.ts): no serializer runs. */
  function sendToken(reply: FastifyReply, id: string, t: FreshToken): void {
    reply.header('cache-control', 'no-store').header('content-type', JSON_CONTENT_TYPE).send(tokenBodies(id, t));
  }

  // Before the routes, so the document sees each of them.
  openApiRoutes(app);
  const api = app.withTypeProvider<ZodTypeProvider>();

  // Each route's answers are documented by `config.responses`, made from responses.ts only for the document.
  const listSchema = { summary: 'The connections this API key may use (no token material).' };
  const listConfig = {
    responses: ({ ok, connectionListSchema, commonProblems }: ResponseSchemas) => ({
      200: ok(connectionListSchema),
      401: commonProblems[401],
      429: commonProblems[429],
    }),
  };
  api.get(
    '/api/v1/connections',
    { onRequest: authenticate, schema: listSchema, config: listConfig },
    async (request, reply) => {
      const connections = await vault.connections.find({ ids: request.apiKey?.connectionIds ?? [] });
      return reply.header('cache-control', 'no-store').send({ connections: connections.map(connectionJson) });
    },
  );

  // Typed by hand, not through the zod type provider: its answer is a pre-serialized string (token-body.ts).
  app.get<{ Params: { id: string }; Querystring: { min_validity: number } }>(
    '/api/v1/connections/:id/token',
    {
      onRequest: authenticateHook,
      schema: {
        summary: 'An access token valid for at least `min_validity` seconds, refreshing first if needed.',
        description: 'Needs the `token` permission.',
        params: connectionIdParams,
        querystring: tokenQuery,
      },
      config: {
        responses: ({ ok, tokenSchema, problem, commonProblems }) => ({
          200: ok(tokenSchema),
          400: problem('`invalid_request` (e.g. `min_validity` out of range).'),
          ...commonProblems,
          409: problem(
            '`needs_reauth`, with its `reason`: `refresh_refused` or `revoked_at_webex` (authorize again), `deauthorized` (a Service App an admin deauthorized in the org).',
          ),
          502: problem('`upstream_error`: Webex refused the client credentials.'),
          503: problem('`upstream_unavailable`, with `Retry-After`; the connection stays active.'),
        }),
      },
      // The same zod schemas, behind a memo of the inputs already accepted (memo-validator.ts): bots repeat requests.
      validatorCompiler: memoValidatorCompiler,
      ...(hotRouteLogLevel ? { logLevel: hotRouteLogLevel } : {}),
    },
    // Not an async handler: the answer is sent from the vault's promise, which spares the hot path a promise of its
    // own and Fastify's wrapping of it; a failure that escapes both callbacks still reaches the error handler.
    (request, reply) => {
      const { id } = request.params;
      if (!permitted(request, reply, 'token') || !inScope(request, reply, id)) return;
      const min = request.query.min_validity;
      // A token the vault holds in memory, fresh enough, is answered at once (no promise, no microtask); any other
      // case (a store read, a refresh, an error) takes getFreshToken.
      const held = vault.connections.cachedFreshToken?.(id, min);
      if (held) {
        sendToken(reply, id, held);
        return;
      }
      vault.connections
        .getFreshToken(id, min)
        .then(
          (t) => sendToken(reply, id, t),
          (err: unknown) => {
            vaultProblem(reply, err);
          },
        )
        .catch((err: unknown) => reply.send(err));
    },
  );

  api.post(
    '/api/v1/connections/:id/refresh',
    {
      onRequest: authenticate,
      bodyLimit: 1024,
      schema: {
        summary: 'Refresh now (single flight).',
        description: 'Needs the `refresh` permission. Recorded in the audit log (`refresh.forced`).',
        params: connectionIdParams,
      },
      config: {
        responses: ({ ok, refreshedSchema, problem, commonProblems }) => ({
          200: ok(refreshedSchema),
          400: problem('`invalid_request`: a bad connection id.'),
          ...commonProblems,
          409: problem('`needs_reauth`, with its `reason`.'),
          413: problem('`payload_too_large`.'),
          429: problem(
            '`rate_limited`, with `Retry-After` (also a forced refresh inside `FORCED_REFRESH_MIN_INTERVAL`).',
          ),
          503: problem('`upstream_unavailable`, with `Retry-After`.'),
        }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!permitted(request, reply, 'refresh') || !inScope(request, reply, id)) return reply;
      try {
        const c = await vault.connections.refresh(id);
        await audit(request, 'refresh.forced', id, c.ownerId);
        return reply.header('cache-control', 'no-store').send({ connection: connectionJson(c) });
      } catch (err) {
        // A forced refresh that ran and failed is recorded too (as the web pages do). One refused inside the interval
        // is not: nothing ran, and a key could otherwise write an audit row per request.
        const code = err instanceof VaultError ? err.code : undefined;
        if (code !== 'rate_limited' && code !== 'not_found') {
          await audit(request, 'refresh.forced', id, undefined, 'failed');
        }
        // Refused near Webex's live-token cap (vault/cap.ts): recorded, so an operator sees who was stopped and why.
        if (err instanceof TokenCapError) {
          await audit(request, 'refresh.refused', id, undefined, err.auditDetail);
        }
        return vaultProblem(reply, err);
      }
    },
  );

  api.delete(
    '/api/v1/connections/:id',
    {
      onRequest: authenticate,
      bodyLimit: 1024,
      schema: {
        summary: 'Forget a connection (its tokens are deleted from the vault).',
        description: 'Needs the `delete` permission. Recorded in the audit log (`connection.delete`).',
        params: connectionIdParams,
      },
      config: { responses: ({ deletedSchema, commonProblems }) => ({ 204: deletedSchema, ...commonProblems }) },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!permitted(request, reply, 'delete') || !inScope(request, reply, id)) return reply;
      const ownerId = (await vault.connections.get(id))?.ownerId;
      if (!(await vault.connections.delete(id))) return sendProblem(reply, 404, 'not_found', 'No such connection.');
      await audit(request, 'connection.delete', id, ownerId);
      return reply.code(204).send(null);
    },
  );

  // Guest tokens through a Service App connection (vault/identities.ts): a live one is reused per subject.
  const identities = (vault as Partial<Pick<Vault, 'identities'>>).identities;
  if (identities) {
    api.post(
      '/api/v1/connections/:id/guests',
      {
        onRequest: authenticate,
        bodyLimit: 1024,
        schema: {
          summary: 'A guest token minted through a Service App connection (with `guest-issuer:write`).',
          description:
            'Needs the `guests` permission. A live token minted earlier for the same `subject` (kept encrypted) is returned again.',
          params: connectionIdParams,
          body: guestBody,
        },
        config: {
          responses: ({ ok, guestTokenSchema, problem, commonProblems }) => ({
            200: ok(guestTokenSchema),
            400: problem('`invalid_request` (bad body, or not a Service App connection).'),
            ...commonProblems,
            409: problem('`needs_reauth`, with its `reason`.'),
            503: problem('`upstream_unavailable`, with `Retry-After`.'),
          }),
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!permitted(request, reply, 'guests') || !inScope(request, reply, id)) return reply;
        try {
          const t = await identities.guestToken(id, request.body);
          // A new guest token is a credential minted: recorded (who asked, for which subject), never the token.
          if (!t.reused) await audit(request, 'guest.token', id, undefined, `subject ${request.body.subject}`);
          return reply.header('cache-control', 'no-store').send({
            access_token: t.accessToken,
            expires_at: new Date(t.expiresAt).toISOString(),
          });
        } catch (err) {
          return vaultProblem(reply, err);
        }
      },
    );
  }

  // The Webex proxy (proxy.ts), in its own context (its body is never parsed), with this plugin's key check, limits
  // and error mapping.
  if ('integrations' in vault) {
    await app.register(proxyRoutes, {
      vault: vault as BrokerVault & Pick<Vault, 'integrations'>,
      config: options.config,
      authenticate: authenticateHook,
      permitted,
      inScope,
      vaultProblem,
      logLevel: hotRouteLogLevel,
      metrics: (vault as { metrics?: VaultMetrics }).metrics,
      ...options.proxy,
    });
  }
};
