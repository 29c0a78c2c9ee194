/**
 * The admin dashboard `/connections` (100 a page, oldest first; `?offset=` skips that many) and its actions
 * (`POST /admin/connections/:id/refresh|delete`): admins only (access/principal.ts — a signed-in `ADMIN_EMAILS`
 * account, the local operator, or a script with `Authorization: Bearer $ADMIN_TOKEN`). Forms carry the CSRF token
 * (checked by the session plugin).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../../../config.js';
import { TokenCapError } from '../../../vault/cap.js';
import type { Vault } from '../../../vault/types.js';
import { LOCAL_OPERATOR, VaultError } from '../../../vault/types.js';
import { personDetail, recordAudit } from '../../audit.js';
import { vaultMissingKey } from '../../key-unavailable.js';
import { adminConnectionsView } from '../../views/connections-admin.js';
import { auditRefresh, refusedText, retrySeconds } from '../forced-refresh.js';

/** Connections on one page of the dashboard. */
export const CONNECTIONS_PAGE_SIZE = 100;

/** Options of {@link adminConnectionsRoutes}. */
export interface AdminOptions {
  vault: Pick<Vault, 'connections' | 'accounts' | 'audit'>;
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

/** The notice of `?notice=` (`rate_limited` with `retry_after` seconds, 1–86400; anything else shows none). */
function noticeText(notice: unknown, retryAfter: unknown): string | undefined {
  if (notice !== 'rate_limited') {
    return typeof notice === 'string' && Object.hasOwn(NOTICES, notice) ? NOTICES[notice] : undefined;
  }
  const seconds = typeof retryAfter === 'string' && /^[1-9]\d{0,4}$/.test(retryAfter) ? Number(retryAfter) : undefined;
  return seconds !== undefined && seconds <= 86_400
    ? refusedText(seconds)
    : 'This connection was refreshed moments ago: try the forced refresh again shortly.';
}

/** The dashboard plugin. */
export const adminConnectionsRoutes: FastifyPluginAsync<AdminOptions> = async (app, { vault, config }) => {
  const admin = { config: { access: 'admin' as const } };

  const idOf = (request: FastifyRequest) => {
    const id = (request.params as { id?: string }).id ?? '';
    return /^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : undefined;
  };

  /** The cap's own words for `?notice=token_cap&connection=…` (the person's standing now), if it still refuses. */
  async function capText(query: { connection?: unknown; retry_after?: unknown }): Promise<string | undefined> {
    const id = typeof query.connection === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(query.connection);
    const status = id ? await vault.connections.tokenCap(query.connection as string) : undefined;
    const seconds = typeof query.retry_after === 'string' && /^[1-9]\d{0,4}$/.test(query.retry_after);
    return status ? new TokenCapError(status, seconds ? Number(query.retry_after) : 1).message : undefined;
  }

  app.get('/connections', admin, async (request, reply) => {
    const query = request.query as { notice?: unknown; retry_after?: unknown; connection?: unknown; offset?: unknown };
    const { notice, retry_after: retryAfter } = query;
    const offset = query.offset === undefined ? 0 : /^\d{1,9}$/.test(String(query.offset)) ? Number(query.offset) : -1;
    if (offset < 0) {
      return reply.errorPage({
        status: 400,
        title: 'Bad page',
        explanation: 'The `offset` of this address is not a whole number of connections.',
        action: 'Open the connections from the header.',
        retryHref: '/connections',
      });
    }
    // One page, and one more row: whether a next page exists.
    const found = await vault.connections.find({ limit: CONNECTIONS_PAGE_SIZE + 1, offset });
    const connections = found.slice(0, CONNECTIONS_PAGE_SIZE);
    const owners = new Map([[LOCAL_OPERATOR, 'local operator']]);
    for (const a of await vault.accounts.list()) owners.set(a.id, a.email);
    return reply.header('cache-control', 'no-store').page(
      'Connections',
      adminConnectionsView({
        connections,
        counts: await vault.connections.countByStatus(),
        offset,
        nextHref:
          found.length > CONNECTIONS_PAGE_SIZE ? `/connections?offset=${offset + CONNECTIONS_PAGE_SIZE}` : undefined,
        previousHref: offset > 0 ? `/connections?offset=${Math.max(0, offset - CONNECTIONS_PAGE_SIZE)}` : undefined,
        now: Date.now(),
        csrf: request.csrf,
        keepaliveDays: config.keepaliveDays,
        owners,
        missingKeyId: vaultMissingKey(vault),
        notice: (notice === 'token_cap' ? await capText(query) : undefined) ?? noticeText(notice, retryAfter),
      }),
    );
  });

  app.post('/admin/connections/:id/refresh', admin, async (request, reply) => {
    const id = idOf(request);
    const connection = id ? await vault.connections.get(id) : undefined;
    if (!connection) return reply.code(303).redirect('/connections?notice=missing');
    let notice = 'refreshed';
    try {
      await vault.connections.refresh(connection.id);
      await auditRefresh(vault, request, 'refresh.forced', connection);
    } catch (err) {
      const code = err instanceof VaultError ? err.code : undefined;
      // Near Webex's live-token cap (vault/cap.ts): refused and recorded, and the notice says so in the cap's words.
      if (err instanceof TokenCapError) {
        const seconds = retrySeconds(err.retryAfter);
        await auditRefresh(vault, request, 'refresh.refused', connection, err.auditDetail);
        const q = new URLSearchParams({ notice: 'token_cap', connection: connection.id, retry_after: String(seconds) });
        return reply.code(303).redirect(`/connections?${q}`);
      }
      if (code === 'rate_limited') {
        // The dashboard's notice says when it can run again (the limit is per connection, whoever asks). A refused
        // refresh minted nothing and is not logged (no audit rows at request rate).
        const seconds = retrySeconds((err as VaultError).retryAfter);
        return reply.code(303).redirect(`/connections?notice=rate_limited&retry_after=${seconds}`);
      }
      if (code !== 'not_found') await auditRefresh(vault, request, 'refresh.forced', connection, 'failed');
      notice =
        code === 'needs_reauth'
          ? 'needs_reauth'
          : code === 'upstream_unavailable'
            ? 'unavailable'
            : code === 'not_found'
              ? 'missing'
              : 'failed';
      if (notice === 'failed') {
        request.log.warn({ connectionId: connection.id, error: code ?? 'unknown' }, 'admin refresh failed');
      }
    }
    return reply.code(303).redirect(`/connections?notice=${notice}`);
  });

  app.post('/admin/connections/:id/delete', admin, async (request, reply) => {
    const id = idOf(request);
    // Read first: the audit entry names the connection's owner (whose log shows the delete) and person.
    const connection = id ? await vault.connections.get(id) : undefined;
    const deleted = connection ? await vault.connections.delete(connection.id) : false;
    if (connection && deleted) {
      await recordAudit({ vault }, request, {
        action: 'connection.delete',
        ownerId: connection.ownerId,
        target: connection.id,
        detail: personDetail(connection),
      });
    }
    return reply.code(303).redirect(`/connections?notice=${deleted ? 'deleted' : 'missing'}`);
  });
};
