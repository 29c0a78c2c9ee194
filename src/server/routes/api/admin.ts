/**
 * The admin dashboard `/connections` and its actions (`POST /admin/connections/:id/refresh|delete`): admins only
 * (access/principal.ts — a signed-in `ADMIN_EMAILS` account, the local operator, or a script with
 * `Authorization: Bearer $ADMIN_TOKEN`). Forms carry the CSRF token (checked by the session plugin).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../../../config.js';
import type { Vault } from '../../../vault/types.js';
import { LOCAL_OPERATOR, VaultError } from '../../../vault/types.js';
import { adminConnectionsView } from '../../views/connections-admin.js';

/** Options of {@link adminConnectionsRoutes}. */
export interface AdminOptions {
  vault: Pick<Vault, 'connections' | 'accounts'>;
  config: Pick<Config, 'keepaliveDays'>;
}

const NOTICES: Record<string, string> = {
  refreshed: 'Refreshed: a new access token is stored.',
  deleted: 'The connection was deleted.',
  needs_reauth: 'Webex refused the refresh token: the person must authorize again.',
  unavailable: 'Webex is unavailable right now; the connection stays active. Try again later.',
  failed: 'The refresh failed; see the server log.',
  missing: 'There is no such connection.',
};

/** The dashboard plugin. */
export const adminConnectionsRoutes: FastifyPluginAsync<AdminOptions> = async (app, { vault, config }) => {
  const admin = { config: { access: 'admin' as const } };

  const idOf = (request: FastifyRequest) => {
    const id = (request.params as { id?: string }).id ?? '';
    return /^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : undefined;
  };

  app.get('/connections', admin, async (request, reply) => {
    const notice = (request.query as { notice?: unknown }).notice;
    const connections = await vault.connections.list();
    const owners = new Map([[LOCAL_OPERATOR, 'local operator']]);
    for (const a of await vault.accounts.list()) owners.set(a.id, a.email);
    return reply.header('cache-control', 'no-store').page(
      'Connections',
      adminConnectionsView({
        connections,
        now: Date.now(),
        csrf: request.csrf,
        keepaliveDays: config.keepaliveDays,
        owners,
        notice: typeof notice === 'string' ? NOTICES[notice] : undefined,
      }),
    );
  });

  app.post('/admin/connections/:id/refresh', admin, async (request, reply) => {
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

  app.post('/admin/connections/:id/delete', admin, async (request, reply) => {
    const id = idOf(request);
    const deleted = id ? await vault.connections.delete(id) : false;
    return reply.code(303).redirect(`/connections?notice=${deleted ? 'deleted' : 'missing'}`);
  });
};
