/**
 * The admin dashboard `/connections` and its actions (`POST /admin/connections/:id/refresh|delete`). Open on a
 * loopback-only server; otherwise it needs `ADMIN_TOKEN`, sent as `Authorization: Bearer <token>` or as the password
 * of HTTP Basic (so a browser can log in). Forms carry the session's CSRF token (checked by the session plugin).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../../config.js';
import type { Vault } from '../../../vault/types.js';
import { VaultError } from '../../../vault/types.js';
import { adminConnectionsView } from '../../views/connections-admin.js';

/** Options of {@link adminConnectionsRoutes}. */
export interface AdminOptions {
  vault: Pick<Vault, 'connections'>;
  config: Pick<Config, 'adminToken' | 'host' | 'keepaliveDays'>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const NOTICES: Record<string, string> = {
  refreshed: 'Refreshed: a new access token is stored.',
  deleted: 'The connection was deleted.',
  needs_reauth: 'Webex refused the refresh token: the person must authorize again.',
  unavailable: 'Webex is unavailable right now; the connection stays active. Try again later.',
  failed: 'The refresh failed; see the server log.',
  missing: 'There is no such connection.',
};

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether the request may use the admin pages. */
export function adminAllowed(config: AdminOptions['config'], request: FastifyRequest): boolean {
  if (LOOPBACK.has(config.host)) return true;
  if (!config.adminToken) return false;
  const header = request.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (bearer) return same(bearer, config.adminToken);
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header)?.[1];
  if (!basic) return false;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  return same(decoded.slice(decoded.indexOf(':') + 1), config.adminToken);
}

/** The dashboard plugin. */
export const adminConnectionsRoutes: FastifyPluginAsync<AdminOptions> = async (app, { vault, config }) => {
  function deny(reply: FastifyReply) {
    return reply
      .code(401)
      .header('www-authenticate', 'Basic realm="webex-auth admin", charset="UTF-8"')
      .errorPage({
        status: 401,
        title: 'Admin token required',
        explanation: config.adminToken
          ? 'The connections dashboard needs the admin token (any user name, the token as password).'
          : 'This server is not on loopback only and has no ADMIN_TOKEN, so the dashboard is off.',
        action: config.adminToken ? 'Sign in with the ADMIN_TOKEN.' : 'Set ADMIN_TOKEN and restart the server.',
      });
  }

  const idOf = (request: FastifyRequest) => {
    const id = (request.params as { id?: string }).id ?? '';
    return /^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : undefined;
  };

  app.get('/connections', async (request, reply) => {
    if (!adminAllowed(config, request)) return deny(reply);
    const notice = (request.query as { notice?: unknown }).notice;
    const connections = await vault.connections.list();
    return reply.header('cache-control', 'no-store').page(
      'Connections',
      adminConnectionsView({
        connections,
        now: Date.now(),
        csrf: request.session.csrf,
        keepaliveDays: config.keepaliveDays,
        notice: typeof notice === 'string' ? NOTICES[notice] : undefined,
      }),
    );
  });

  app.post('/admin/connections/:id/refresh', async (request, reply) => {
    if (!adminAllowed(config, request)) return deny(reply);
    const id = idOf(request);
    if (!id) return reply.code(303).redirect('/connections?notice=missing');
    let notice = 'refreshed';
    try {
      await vault.connections.refresh(id);
    } catch (err) {
      const code = err instanceof VaultError ? err.code : undefined;
      notice =
        code === 'needs_reauth'
          ? 'needs_reauth'
          : code === 'upstream_unavailable'
            ? 'unavailable'
            : code === 'not_found'
              ? 'missing'
              : 'failed';
      if (notice === 'failed') request.log.warn({ connectionId: id, error: code ?? 'unknown' }, 'admin refresh failed');
    }
    return reply.code(303).redirect(`/connections?notice=${notice}`);
  });

  app.post('/admin/connections/:id/delete', async (request, reply) => {
    if (!adminAllowed(config, request)) return deny(reply);
    const id = idOf(request);
    const deleted = id ? await vault.connections.delete(id) : false;
    return reply.code(303).redirect(`/connections?notice=${deleted ? 'deleted' : 'missing'}`);
  });
};
