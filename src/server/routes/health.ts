/** `/healthz` (the process answers) and `/readyz` (the vault answers too). */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';

/** Registers the health routes. */
export function healthRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (_request, reply) => {
      try {
        await ctx.vault.connections.list();
        return { status: 'ready', mode: ctx.config.mode };
      } catch {
        return reply.code(503).send({ status: 'unavailable', reason: 'the token store does not answer' });
      }
    });
  };
}
