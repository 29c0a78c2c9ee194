/**
 * The webhooks page (members): `GET /webhooks` lists the lifecycle-event endpoints the viewer may see — a member's
 * own, every one for an admin (and the operator's `WEBHOOK_URL` deliveries) — with their last deliveries; `POST
 * /webhooks` adds one and shows its secret once (never stored in the session nor put in a URL); `POST
 * /webhooks/:id/delete` and `POST /webhooks/deliveries/:id/redeliver` act on an endpoint the viewer may see. Another
 * member's endpoint or delivery is the same 404 as an unknown id. Each action is audited.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { type AuditAction, LOCAL_OPERATOR, type Vault, VaultError } from '../../vault/types.js';
import { originAndPath } from '../../vault/webhook-address.js';
import { OPERATOR_ENDPOINT, type WebhookEndpoint } from '../../vault/webhook-types.js';
import { owns } from '../access/principal.js';
import { recordAudit } from '../audit.js';
import type { ServerVault } from '../ports.js';
import { type WebhookEntry, webhookCreatedView, webhooksView } from '../views/webhooks.js';
import { createAccountLimiter } from './account-limit.js';
import type { RouteOptions } from './signin.js';

/** The vault calls of this page (absent from a page-only stand-in vault). */
type WebhooksVault = ServerVault & Pick<Vault, 'webhooks'>;

const ID = /^[A-Za-z0-9_-]{1,100}$/;
const idParams = z.object({ id: z.string().regex(ID) });
const createBody = z.object({
  _csrf: z.string().optional(),
  url: z.string().max(2000, 'The URL is longer than 2,000 characters.').default(''),
  connection: z.union([z.literal(''), z.string().regex(ID, 'That is not a connection id.')]).default(''),
  description: z.string().max(100, 'The note is longer than 100 characters.').default(''),
});

/** Deliveries shown per endpoint (the log keeps more). */
const SHOWN = 20;

const NOTICES: Record<string, string> = {
  deleted: 'The endpoint was deleted: it receives nothing more.',
  redelivered: 'The delivery was sent again, with the same webhook-id.',
};

const notFound = {
  status: 404,
  title: 'Not found',
  explanation: 'There is no webhook endpoint, delivery or connection with this id that you may manage.',
  action: 'Go back to the webhooks page.',
  retryHref: '/webhooks',
};

/** Registers `/webhooks` and its actions. */
export const webhooksRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  if (!('webhooks' in ctx.vault)) return;
  const vault = ctx.vault as WebhooksVault;

  const audit = (request: FastifyRequest, action: AuditAction, target: string, ownerId: string, detail?: string) =>
    recordAudit(ctx, request, { action, target, ownerId, ...(detail ? { detail } : {}) });
  // Adds and redeliveries per account: each one makes this server call out (a DNS look-up, up to five POSTs).
  const limiter = createAccountLimiter();

  /** A 429 page when the viewer has used up their adds and redeliveries; undefined when this one may run. */
  const limited = (request: FastifyRequest, reply: FastifyReply, action: 'add' | 'redeliver') =>
    limiter(request, reply, action, {
      title: 'Too many webhook actions',
      what: 'Endpoints are added, and deliveries sent again,',
      retryHref: '/webhooks',
    });

  /** The endpoint of `:id` if this request may see it. */
  async function load(request: FastifyRequest): Promise<WebhookEndpoint | undefined> {
    const parsed = idParams.safeParse(request.params);
    if (!parsed.success) return undefined;
    const endpoint = await vault.webhooks.get(parsed.data.id);
    return endpoint && owns(request.principal, endpoint.ownerId) ? endpoint : undefined;
  }

  async function page(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: {
      status?: number;
      notice?: string;
      error?: string;
      form?: { url: string; connectionId: string; description: string };
    } = {},
  ) {
    const p = request.principal;
    const endpoints = p.admin ? await vault.webhooks.list() : p.ownerId ? await vault.webhooks.list(p.ownerId) : [];
    const owners = new Map([[LOCAL_OPERATOR, 'local operator']]);
    if (p.admin) for (const a of await vault.accounts.list()) owners.set(a.id, a.email);
    const entries: WebhookEntry[] = [];
    for (const endpoint of endpoints) {
      entries.push({
        // Another member's URL (an admin's view) without its query, fragment or user info: they may hold a receiver's
        // token. The owner sees theirs in full.
        endpoint:
          endpoint.ownerId === p.ownerId
            ? endpoint
            : { ...endpoint, url: originAndPath(endpoint.url) ?? '(unreadable URL)' },
        deliveries: await vault.webhooks.deliveries(endpoint.id, SHOWN),
        ...(p.admin ? { owner: owners.get(endpoint.ownerId) ?? endpoint.ownerId } : {}),
      });
    }
    const mine = p.ownerId ? await vault.connections.list(p.ownerId) : [];
    const operatorUrl = ctx.config.webhookUrl;
    return reply.page(
      'Webhooks',
      webhooksView({
        csrf: request.csrf,
        entries,
        operator:
          p.admin && operatorUrl
            ? {
                url: new URL(operatorUrl).origin,
                deliveries: await vault.webhooks.deliveries(OPERATOR_ENDPOINT, SHOWN),
              }
            : undefined,
        connections: mine.map((c) => ({ id: c.id, name: c.displayName })),
        canCreate: p.ownerId !== undefined,
        notice: extra.notice,
        error: extra.error,
        form: extra.form,
      }),
      extra.status ?? 200,
    );
  }

  app.get('/webhooks', { config: { access: 'member' } }, async (request, reply) => {
    const notice = (request.query as { notice?: unknown } | undefined)?.notice;
    return page(request, reply, { notice: typeof notice === 'string' ? NOTICES[notice] : undefined });
  });

  app.post('/webhooks', { config: { access: 'member' } }, async (request, reply) => {
    const parsed = createBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      const error = parsed.error.issues.find((i) => !i.message.startsWith('Invalid'))?.message;
      return page(request, reply, { status: 400, error: error ?? 'The form could not be read: reload the page.' });
    }
    const body = parsed.data;
    const refused = limited(request, reply, 'add');
    if (refused) return refused;
    // A URL holding credentials is not shown again (a password never goes back into a page).
    const withCredentials = URL.canParse(body.url) && !!(new URL(body.url).username || new URL(body.url).password);
    const form = { url: withCredentials ? '' : body.url, connectionId: body.connection, description: body.description };
    const ownerId = request.principal.ownerId;
    if (ownerId === undefined) {
      return reply.errorPage({
        status: 400,
        title: 'No owner',
        explanation: 'An endpoint belongs to an account: sign in to add one.',
        action: 'Sign in, then add the endpoint.',
        retryHref: '/webhooks',
      });
    }
    if (body.connection) {
      // Only one's own connection: another's is the same 404 as an unknown id (admins too: an endpoint is its owner's).
      const connection = await vault.connections.get(body.connection);
      if (!connection || connection.ownerId !== ownerId) return reply.errorPage(notFound);
    }
    let created: Awaited<ReturnType<WebhooksVault['webhooks']['create']>>;
    try {
      created = await vault.webhooks.create({
        ownerId,
        url: body.url,
        ...(body.connection ? { connectionId: body.connection } : {}),
        ...(body.description.trim() ? { description: body.description } : {}),
      });
    } catch (error) {
      if (error instanceof VaultError && error.code === 'not_found') return reply.errorPage(notFound);
      if (error instanceof VaultError && error.code === 'invalid_request')
        return page(request, reply, { status: 400, error: error.message, form });
      throw error;
    }
    await audit(request, 'webhook.create', created.endpoint.id, ownerId, new URL(created.endpoint.url).origin);
    return reply.code(201).page('Endpoint added', webhookCreatedView(created.endpoint, created.secret));
  });

  app.post('/webhooks/:id/delete', { config: { access: 'member' } }, async (request, reply) => {
    const endpoint = await load(request);
    if (!endpoint) return reply.errorPage(notFound);
    if (await vault.webhooks.remove(endpoint.id)) await audit(request, 'webhook.delete', endpoint.id, endpoint.ownerId);
    return reply.code(303).redirect('/webhooks?notice=deleted');
  });

  app.post('/webhooks/deliveries/:id/redeliver', { config: { access: 'member' } }, async (request, reply) => {
    const parsed = idParams.safeParse(request.params);
    if (!parsed.success) return reply.errorPage(notFound);
    const delivery = await vault.webhooks.getDelivery(parsed.data.id);
    if (!delivery) return reply.errorPage(notFound);
    let ownerId: string;
    if (delivery.endpointId === OPERATOR_ENDPOINT) {
      if (!request.principal.admin) return reply.errorPage(notFound);
      ownerId = LOCAL_OPERATOR;
    } else {
      const endpoint = await vault.webhooks.get(delivery.endpointId);
      if (!endpoint || !owns(request.principal, endpoint.ownerId)) return reply.errorPage(notFound);
      ownerId = endpoint.ownerId;
    }
    const refused = limited(request, reply, 'redeliver');
    if (refused) return refused;
    const again = await vault.webhooks.redeliver(delivery.id);
    if (!again) return reply.errorPage(notFound);
    await audit(request, 'webhook.redeliver', delivery.endpointId, ownerId, `${delivery.type} ${delivery.eventId}`);
    return reply.code(303).redirect('/webhooks?notice=redelivered');
  });
};
