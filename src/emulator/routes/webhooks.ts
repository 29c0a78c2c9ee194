/**
 * `POST/GET /v1/webhooks`, `GET/PUT/DELETE /v1/webhooks/{webhookId}` as Webex answers them. Any valid token may manage
 * its own webhooks (those it created, through the same app); a webhook on `messages` needs a token that can read
 * messages (`spark:messages_read` or `spark:all`; bot tokens can) — 403 otherwise. Delivery lives in webhooks/hub.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { EmulatorContext } from '../context.js';
import { MSG_403, restError, sendJson } from '../envelope.js';
import { stableUuid } from '../ids.js';
import { parseFilter, sparkId, WebhookHub, type WebhookRec, webhookJson, webhooks } from '../webhooks/hub.js';
import { authenticate, beginList, type Caller, paginate, readJsonBody, requiredScopes } from './rest.js';

const MSG_NO_WEBHOOK = 'Could not find a webhook with provided ID.';

const targetUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    if (!URL.canParse(s)) return false;
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  }, 'must be an http(s) URL');

const createWebhook = z.object({
  name: z.string().trim().min(1).max(128),
  targetUrl,
  resource: z.enum(['messages', 'memberships', 'rooms', 'serviceApp']),
  event: z.enum(['created', 'updated', 'deleted', 'authorized', 'deauthorized', 'all']),
  filter: z.string().min(1).max(2048).optional(),
  secret: z.string().min(1).max(256).optional(),
  ownedBy: z.literal('creator').optional(),
});

const updateWebhook = z.object({
  name: z.string().trim().min(1).max(128),
  targetUrl,
  secret: z.string().min(1).max(256).optional(),
  ownedBy: z.literal('creator').optional(),
  status: z.enum(['active', 'inactive']).optional(),
});

/** Registers the webhooks endpoints; deliveries stop when the app closes. */
export async function webhookRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const hub = webhooks(ctx);
  const messageScopes = requiredScopes('GET', '/messages');
  app.addHook('onClose', async () => hub.stop());

  /** The caller's application: its integration, else (a bot token) an id derived from the bot. */
  const appIdOf = (caller: Caller) =>
    sparkId('APPLICATION', caller.token.clientId ?? stableUuid(`bot-app:${caller.person.uuid}`));

  const owns = (caller: Caller, w: WebhookRec) => w.ownerUuid === caller.person.uuid && w.appId === appIdOf(caller);

  function find(request: FastifyRequest, reply: FastifyReply): { caller: Caller; w: WebhookRec } | undefined {
    const caller = authenticate(ctx, request, reply, []);
    if (!caller) return undefined;
    const w = hub.webhooks.get((request.params as { webhookId: string }).webhookId);
    if (!w || !owns(caller, w)) {
      restError(request, reply, 404, MSG_NO_WEBHOOK);
      return undefined;
    }
    return { caller, w };
  }

  app.post('/v1/webhooks', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, []);
    if (!caller) return reply;
    const body = readJsonBody(request, reply, createWebhook);
    if (!body) return reply;
    const filters = body.filter === undefined ? new Map<string, string>() : parseFilter(body.resource, body.filter);
    if (typeof filters === 'string') return restError(request, reply, 400, filters);
    const appEvent = body.event === 'authorized' || body.event === 'deauthorized';
    if (body.event !== 'all' && appEvent !== (body.resource === 'serviceApp'))
      return restError(request, reply, 400, `Event '${body.event}' is not supported for resource ${body.resource}.`);
    if (body.resource === 'messages' && !messageScopes.some((s) => caller.token.scopes.has(s)))
      return restError(request, reply, 403, MSG_403);
    const w: WebhookRec = {
      id: WebhookHub.newId(),
      name: body.name,
      targetUrl: body.targetUrl,
      resource: body.resource,
      event: body.event,
      filter: body.filter,
      filters,
      secret: body.secret,
      status: 'active',
      ownedBy: 'creator',
      created: ctx.state.iso(),
      createdBy: caller.person.id,
      ownerUuid: caller.person.uuid,
      appId: appIdOf(caller),
      orgId: caller.person.orgId,
      developer: body.resource === 'serviceApp' && caller.token.scopes.has('spark:applications_token'),
      consecutiveFailures: 0,
    };
    hub.webhooks.set(w.id, w);
    return sendJson(reply, 200, webhookJson(w));
  });

  app.get('/v1/webhooks', { config: { fault: 'rest' } }, async (request, reply) => {
    const list = beginList(ctx, request, reply, [], () => ({ defaultMax: 100, limit: 100 }));
    if (!list) return reply;
    const { caller, max, offset } = list;
    const mine = [...hub.webhooks.values()].filter((w) => owns(caller, w));
    const page = paginate(request, reply, mine, offset, max);
    return sendJson(reply, 200, { items: page.map(webhookJson) });
  });

  app.get('/v1/webhooks/:webhookId', { config: { fault: 'rest' } }, async (request, reply) => {
    const found = find(request, reply);
    if (!found) return reply;
    return sendJson(reply, 200, webhookJson(found.w));
  });

  app.put('/v1/webhooks/:webhookId', { config: { fault: 'rest' } }, async (request, reply) => {
    const found = find(request, reply);
    if (!found) return reply;
    const body = readJsonBody(request, reply, updateWebhook);
    if (!body) return reply;
    const { w } = found;
    w.name = body.name;
    w.targetUrl = body.targetUrl;
    if (body.secret !== undefined) w.secret = body.secret;
    if (body.status !== undefined && body.status !== w.status) {
      w.status = body.status;
      // Turning it back on starts the failure count afresh.
      if (body.status === 'active') w.consecutiveFailures = 0;
    }
    return sendJson(reply, 200, webhookJson(w));
  });

  app.delete('/v1/webhooks/:webhookId', { config: { fault: 'rest' } }, async (request, reply) => {
    const found = find(request, reply);
    if (!found) return reply;
    hub.webhooks.delete(found.w.id);
    return reply.code(204).send();
  });
}
