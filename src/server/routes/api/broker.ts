/**
 * The token broker API (design.md, "Token broker API"), as a Fastify plugin:
 *
 * - `GET /api/v1/connections` — the connections this API key may use, without token material;
 * - `GET /api/v1/connections/:id/token?min_validity=60` — an access token valid for at least that many seconds,
 *   refreshed first when needed (single flight across processes, see src/vault/refresher.ts);
 * - `POST /api/v1/connections/:id/refresh`, `DELETE /api/v1/connections/:id`;
 * - `GET /api/v1/openapi.json`.
 *
 * Auth is `Authorization: Bearer wak_…` (an API key made for given connections); errors are problem+json with a
 * stable `code`; each key has a rate limit; bodies are limited to 1 KiB. Input is validated by Fastify's JSON
 * schemas (ajv), so bad input is a 400 naming the field, never a 500.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../../config.js';
import type { ApiKeyRecord, Connection, Vault } from '../../../vault/types.js';
import { VaultError, VaultKeyError } from '../../../vault/types.js';
import { lazyChildLogger } from '../../lazy-logger.js';
import { openApiDocument } from './openapi.js';
import { sendProblem } from './problem.js';
import { createRateLimiter, type RateLimitOptions } from './ratelimit.js';

/** The vault calls the broker makes. */
export type BrokerVault = Pick<Vault, 'connections' | 'apiKeys'>;

/** Options of {@link brokerRoutes}. */
export interface BrokerOptions {
  vault: BrokerVault;
  config: Pick<Config, 'keepaliveDays'>;
  /** Per-key rate limit (default burst 120, 20/s). */
  rateLimit?: RateLimitOptions;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The broker API key of this request, once authenticated. */
    apiKey?: ApiKeyRecord;
  }
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' } },
} as const;

const tokenQuery = {
  type: 'object',
  properties: { min_validity: { type: 'integer', minimum: 0, maximum: 86_400, default: 60 } },
} as const;

/** The API view of a connection. */
export function connectionJson(c: Connection) {
  return {
    id: c.id,
    integration_id: c.integrationId,
    person: { id: c.personId, email: c.personEmail, display_name: c.displayName },
    scopes: c.scopes,
    status: c.status,
    access_token_expires_at: new Date(c.accessExpiresAt).toISOString(),
    refresh_token_expires_at: new Date(c.refreshExpiresAt).toISOString(),
    last_refresh_at: c.lastRefreshAt ? new Date(c.lastRefreshAt).toISOString() : null,
    last_error: c.lastError ?? null,
  };
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

/** Maps a vault failure to its problem response. */
function vaultProblem(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof VaultError) {
    switch (err.code) {
      case 'not_found':
        return sendProblem(reply, 404, 'not_found', 'No such connection.');
      case 'needs_reauth':
        return sendProblem(
          reply,
          409,
          'needs_reauth',
          'Webex refused the refresh token. The person must authorize again in the web app (or `webex-auth login`).',
        );
      case 'upstream_unavailable':
        return sendProblem(reply, 503, 'upstream_unavailable', 'Webex is unavailable; try again later.', {
          'retry-after': String(err.retryAfter ?? 5),
        });
      case 'refresh_failed':
        return sendProblem(reply, 502, 'upstream_error', err.message);
      case 'invalid_request':
        return sendProblem(reply, 400, 'invalid_request', err.message);
      default:
        return sendProblem(reply, 409, 'invalid_request', err.message);
    }
  }
  if (err instanceof VaultKeyError) {
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
  // The token route is the hot path (bots ask before every Webex call): at the default `info` level its two
  // per-request lines ("incoming request", "request completed") would be most of the log and a measurable share of
  // its CPU, so that route logs at `warn` — its errors and warnings still appear, and LOG_LEVEL=debug (or trace) keeps
  // every request line. Other levels are left as configured.
  const hotRouteLogLevel = app.log.level === 'info' ? 'warn' : undefined;

  app.setErrorHandler(async (error, request, reply) => {
    const e = error as { statusCode?: number; code?: string; validation?: unknown; message?: string };
    if (e.validation) return sendProblem(reply, 400, 'invalid_request', e.message);
    if (e.statusCode === 413) return sendProblem(reply, 413, 'payload_too_large', 'The body may be at most 1 KiB.');
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return sendProblem(reply, e.statusCode, 'invalid_request', 'The request could not be understood.');
    }
    return vaultProblem(reply, error);
  });

  /** Authenticates the API key and applies its rate limit. */
  async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const record = match ? await vault.apiKeys.verify(match[1] as string) : undefined;
    if (!record) {
      return sendProblem(reply, 401, 'unauthorized', 'Send `Authorization: Bearer wak_…` with a broker API key.', {
        'www-authenticate': 'Bearer realm="webex-auth"',
      });
    }
    const wait = limit(record.id);
    if (wait > 0) {
      return sendProblem(reply, 429, 'rate_limited', 'This API key sent too many requests.', {
        'retry-after': String(wait),
      });
    }
    request.apiKey = record;
  }

  /** 403 unless the key was made for this connection. */
  function inScope(request: FastifyRequest, reply: FastifyReply, id: string): boolean {
    if (request.apiKey?.connectionIds.includes(id)) return true;
    sendProblem(reply, 403, 'forbidden', 'This API key was not made for this connection.');
    return false;
  }

  app.get('/api/v1/openapi.json', async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send(openApiDocument),
  );

  app.get('/api/v1/connections', { onRequest: authenticate }, async (request, reply) => {
    const allowed = new Set(request.apiKey?.connectionIds);
    const connections = (await vault.connections.list()).filter((c) => allowed.has(c.id));
    return reply.header('cache-control', 'no-store').send({ connections: connections.map(connectionJson) });
  });

  app.get<{ Params: { id: string }; Querystring: { min_validity: number } }>(
    '/api/v1/connections/:id/token',
    {
      onRequest: authenticate,
      schema: { params: idParams, querystring: tokenQuery },
      ...(hotRouteLogLevel ? { logLevel: hotRouteLogLevel } : {}),
      childLoggerFactory: lazyChildLogger,
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!inScope(request, reply, id)) return reply;
      try {
        const t = await vault.connections.getFreshToken(id, request.query.min_validity);
        return reply.header('cache-control', 'no-store').send({
          access_token: t.accessToken,
          token_type: 'Bearer',
          expires_at: new Date(t.expiresAt).toISOString(),
          expires_in: Math.max(0, Math.floor((t.expiresAt - Date.now()) / 1000)),
          scopes: t.scopes,
          person: { id: t.person.id, email: t.person.email, display_name: t.person.displayName },
        });
      } catch (err) {
        return vaultProblem(reply, err);
      }
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/connections/:id/refresh',
    { onRequest: authenticate, bodyLimit: 1024, schema: { params: idParams } },
    async (request, reply) => {
      const { id } = request.params;
      if (!inScope(request, reply, id)) return reply;
      try {
        const c = await vault.connections.refresh(id);
        return reply.header('cache-control', 'no-store').send({ connection: connectionJson(c) });
      } catch (err) {
        return vaultProblem(reply, err);
      }
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/connections/:id',
    { onRequest: authenticate, bodyLimit: 1024, schema: { params: idParams } },
    async (request, reply) => {
      const { id } = request.params;
      if (!inScope(request, reply, id)) return reply;
      if (!(await vault.connections.delete(id))) return sendProblem(reply, 404, 'not_found', 'No such connection.');
      return reply.code(204).send();
    },
  );
};
