/**
 * The test-only control API under `/_emulator` (design.md): clock, faults, stats, revoke, reset. Never under `/v1`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { EmulatorContext } from '../context.js';
import { restError, sendJson } from '../envelope.js';
import { webhooks } from '../webhooks/hub.js';

const clockBody = z.object({ advanceSeconds: z.number().finite().min(-1e10).max(1e10) }).strict();
const faultBody = z
  .object({
    endpoint: z.enum(['token', 'authorize', 'rest', '*']),
    status: z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
    count: z.number().int().min(1).max(1_000_000).optional(),
    retryAfter: z.number().int().min(0).max(86400).optional(),
    delayMs: z.number().int().min(0).max(120_000).optional(),
    error: z
      .string()
      .regex(/^[a-z_]{1,64}$/)
      .optional(),
    rate: z.number().min(0).max(1).optional(),
  })
  .strict();
const revokeBody = z.union([
  z.object({ email: z.string().min(3).max(320) }).strict(),
  z.object({ refreshToken: z.string().min(1).max(4096) }).strict(),
  z.object({ accessToken: z.string().min(1).max(4096) }).strict(),
]);

function body<S extends z.ZodType>(request: FastifyRequest, reply: FastifyReply, schema: S): z.output<S> | undefined {
  const result = schema.safeParse(request.body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  restError(request, reply, 400, `${where}${issue?.message ?? 'invalid body'}`.slice(0, 300));
  return undefined;
}

/** Registers the control API. */
export async function controlRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const clockState = () => ({ now: new Date(ctx.clock.now()).toISOString(), offsetSeconds: ctx.clock.offsetMs / 1000 });

  app.get('/_emulator/clock', async (_request, reply) => sendJson(reply, 200, clockState()));
  app.post('/_emulator/clock', async (request, reply) => {
    const b = body(request, reply, clockBody);
    if (!b) return reply;
    ctx.clock.advance(b.advanceSeconds);
    return sendJson(reply, 200, clockState());
  });

  app.get('/_emulator/faults', async (_request, reply) => sendJson(reply, 200, { faults: ctx.faults.list() }));
  app.post('/_emulator/faults', async (request, reply) => {
    const b = body(request, reply, faultBody);
    if (!b) return reply;
    ctx.faults.add(b);
    return sendJson(reply, 200, { faults: ctx.faults.list() });
  });
  app.delete('/_emulator/faults', async (_request, reply) => {
    ctx.faults.clear();
    return reply.code(204).send();
  });

  app.get('/_emulator/stats', async (_request, reply) => sendJson(reply, 200, ctx.stats.toJSON()));
  app.delete('/_emulator/stats', async (_request, reply) => {
    ctx.stats.clear();
    return reply.code(204).send();
  });

  app.post('/_emulator/revoke', async (request, reply) => {
    const b = body(request, reply, revokeBody);
    if (!b) return reply;
    if ('email' in b) {
      const person = ctx.state.personByEmail(b.email);
      if (!person) return restError(request, reply, 404, 'No such person.');
      return sendJson(reply, 200, { revoked: ctx.tokens.revokePerson(person.uuid) });
    }
    if ('refreshToken' in b) {
      const grant = ctx.state.refreshTokens.get(b.refreshToken);
      if (!grant) return restError(request, reply, 404, 'No such refresh token.');
      ctx.tokens.revokeGrant(grant);
      return sendJson(reply, 200, { revoked: 1 });
    }
    const access = ctx.state.accessTokens.get(b.accessToken);
    if (!access) return restError(request, reply, 404, 'No such access token.');
    access.revokedAt = ctx.clock.now() + ctx.options.revocationLagMs;
    return sendJson(reply, 200, { revoked: 1 });
  });

  // Webhook deliveries, oldest first (`?webhookId=` narrows them); DELETE forgets them.
  app.get('/_emulator/deliveries', async (request, reply) => {
    const id = (request.query as Record<string, unknown> | undefined)?.webhookId;
    const all = webhooks(ctx).deliveries;
    return sendJson(reply, 200, { deliveries: typeof id === 'string' ? all.filter((d) => d.webhookId === id) : all });
  });
  app.delete('/_emulator/deliveries', async (_request, reply) => {
    webhooks(ctx).deliveries.length = 0;
    return reply.code(204).send();
  });

  app.post('/_emulator/reset', async (_request, reply) => {
    ctx.state.reset();
    webhooks(ctx).reset();
    ctx.stats.clear();
    ctx.faults.clear();
    ctx.clock.offsetMs = ctx.options.clockOffset * 1000;
    return sendJson(reply, 200, { reset: true });
  });
}
