/**
 * `/healthz` (the process answers) and `/readyz` (the vault answers too). Open to anyone, but behind the Host check
 * like every route: a probe sends an allowed Host (or its name goes in ALLOWED_HOSTS).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { vaultMissingKey } from '../key-unavailable.js';
import type { RouteOptions } from './signin.js';

/** Registers the health routes. */
export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  const open = { config: { access: 'anyone' as const } };
  app.get('/healthz', open, async () => ({ status: 'ok' }));
  app.get('/readyz', open, async (_request, reply) => {
    try {
      // One indexed read (of an id that cannot exist): the store answers, at the same cost whatever its size.
      await ctx.vault.connections.get('readyz-probe');
      // Stored data met under a key this ring lacks (a rotation elsewhere): not ready until the new ring is loaded.
      const keyId = vaultMissingKey(ctx.vault);
      if (keyId) return reply.code(503).send({ status: 'unavailable', reason: 'key_missing', keyId });
      return { status: 'ready', mode: ctx.config.mode, access_mode: ctx.config.accessMode };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'the token store does not answer' });
    }
  });
};
