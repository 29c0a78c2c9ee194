/**
 * The result page `/connections/:id` and its actions (refresh, try it, delete). Only the browser session that
 * completed the flow, or an admin (`Authorization: Bearer <ADMIN_TOKEN>`), may see or act on a connection; anyone
 * else gets the same 404 as for an unknown id.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { constantTimeEqual } from '../../oauth/callback.js';
import { scopesForEndpoint } from '../../scopes/catalog.js';
import { WebexClient } from '../../webex/client.js';
import type { ServerContext } from '../context.js';
import { explainError as explainOAuthError } from '../explain.js';
import { connectionView } from '../views/connection.js';

const idParams = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/),
});
const tryBody = z.object({ _csrf: z.string(), endpoint: z.enum(['people-me', 'rooms']) });

const TRY_CALLS = {
  'people-me': { label: 'GET /people/me', method: 'GET', path: '/people/me', query: undefined },
  rooms: { label: 'GET /rooms', method: 'GET', path: '/rooms', query: { max: 10 } },
} as const;

/** True when the request carries the admin token. */
export function isAdmin(ctx: ServerContext, request: FastifyRequest): boolean {
  const admin = ctx.config.adminToken;
  const header = request.headers.authorization;
  return !!admin && typeof header === 'string' && constantTimeEqual(header, `Bearer ${admin}`);
}

/** Registers the connection pages. */
export function connectionRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    /** The connection of `:id` if this request may see it. */
    async function load(request: FastifyRequest) {
      const parsed = idParams.safeParse(request.params);
      if (!parsed.success) return undefined;
      const id = parsed.data.id;
      if (!request.session.connections.has(id) && !isAdmin(ctx, request)) return undefined;
      return ctx.vault.connections.get(id);
    }
    const notFound = {
      status: 404,
      title: 'Connection not found',
      explanation: 'There is no connection with this id that this browser completed (or it was deleted).',
      action: 'Authorize again from the home page.',
    };

    app.get('/connections/:id', async (request, reply) => {
      const connection = await load(request);
      if (!connection) return reply.errorPage(notFound);
      const tokens = await ctx.vault.connections.revealTokens(connection.id);
      const tryResult = request.session.flash.get(connection.id);
      request.session.flash.delete(connection.id);
      const integration = await ctx.vault.integrations.get(connection.integrationId);
      return reply.page(
        connection.person.displayName,
        connectionView({
          csrf: request.session.csrf,
          connection,
          tokens,
          apiBase: integration?.apiBase ?? ctx.config.apiBase,
          now: Date.now(),
          tryResult,
          showAvatar: ctx.config.mode !== 'demo',
        }),
      );
    });

    app.post('/connections/:id/refresh', async (request, reply) => {
      const connection = await load(request);
      if (!connection) return reply.errorPage(notFound);
      try {
        await ctx.vault.connections.refresh(connection.id);
      } catch (error) {
        const e = explainOAuthError(error);
        return reply.errorPage({ status: 502, ...e, retryHref: `/connections/${connection.id}` });
      }
      return reply.code(303).redirect(`/connections/${connection.id}`);
    });

    app.post('/connections/:id/try', async (request, reply) => {
      const connection = await load(request);
      if (!connection) return reply.errorPage(notFound);
      const body = tryBody.safeParse(request.body ?? {});
      if (!body.success) {
        return reply.errorPage({
          status: 400,
          title: 'Unknown call',
          explanation: 'Try it offers GET /people/me and GET /rooms only.',
          action: 'Pick one of the buttons.',
          retryHref: `/connections/${connection.id}`,
        });
      }
      const call = TRY_CALLS[body.data.endpoint];
      const integration = await ctx.vault.integrations.get(connection.integrationId);
      try {
        const { accessToken } = await ctx.vault.connections.getFreshToken(connection.id, 60);
        const client = new WebexClient({
          apiBase: integration?.apiBase ?? ctx.config.apiBase,
          accessToken,
          fetch: ctx.fetch,
        });
        const r = await client.request(call.method, call.path, { query: call.query });
        request.session.flash.set(connection.id, {
          label: call.label,
          status: r.status,
          durationMs: r.durationMs,
          trackingId: r.trackingId,
          body: r.body,
          requiredScopes: r.status === 403 ? scopesForEndpoint(call.method, call.path) : undefined,
        });
      } catch (error) {
        const e = explainOAuthError(error);
        return reply.errorPage({ status: 502, ...e, retryHref: `/connections/${connection.id}` });
      }
      return reply.code(303).redirect(`/connections/${connection.id}#try`);
    });

    app.post('/connections/:id/delete', async (request, reply) => {
      const connection = await load(request);
      if (!connection) return reply.errorPage(notFound);
      await ctx.vault.connections.delete(connection.id);
      request.session.connections.delete(connection.id);
      return reply.code(303).redirect('/');
    });
  };
}
