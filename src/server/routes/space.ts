/**
 * The space demo (what the Webex sample's widget shows): after a person authorizes, the bot (`BOT_TOKEN`) adds them to
 * the space (`SPACE_ID`), and `/space` shows its messages and a composer through the person's own token. The page
 * is live: `GET /space/events` streams new messages to it (space/live.ts).
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { WebexClient } from '../../webex/client.js';
import { WebexApiError } from '../../webex/errors.js';
import type { Person } from '../../webex/schemas.js';
import type { ServerContext } from '../context.js';
import { explainError as explainOAuthError } from '../explain.js';
import { SpaceLive } from '../space/live.js';
import { spaceMessage } from '../space/messages.js';
import { spaceWebhookRoutes } from '../space/receiver.js';
import { webhookTarget } from '../space/target.js';
import { type SpaceMessage, spaceView } from '../views/space.js';
import type { RouteOptions } from './signin.js';

/** The scopes the space demo needs from the person. */
export const SPACE_SCOPES = ['spark:people_read', 'spark:rooms_read', 'spark:messages_read', 'spark:messages_write'];

/** Adds `person` to the demo space with the bot's token; a failure is logged, never fatal (409 = already in). */
export async function addPersonToSpace(ctx: ServerContext, person: Person, log: FastifyBaseLogger): Promise<void> {
  const { botToken, spaceId } = ctx.config;
  const email = person.emails[0];
  if (!botToken || !spaceId || !email) return;
  const bot = new WebexClient({ apiBase: ctx.config.apiBase, accessToken: botToken, fetch: ctx.fetch });
  try {
    await bot.createMembership({ roomId: spaceId, personEmail: email });
  } catch (error) {
    if (error instanceof WebexApiError && error.status === 409) return;
    log.warn(
      { err: { name: (error as Error).name, status: (error as { status?: number }).status } },
      'space demo: bot could not add the person',
    );
  }
}

/** The owner's most recently updated connection of the configured integration (the demo space lives at its API base). */
async function latestConnection(ctx: ServerContext, request: FastifyRequest) {
  const ownerId = request.principal.ownerId;
  if (ownerId === undefined) return undefined;
  return (await ctx.vault.connections.list(ownerId))
    .filter((c) => c.integrationId === ctx.defaultIntegrationId && c.status === 'active')
    .sort((a, b) => b.updatedAt - a.updatedAt)[0];
}

const messageBody = z.object({ _csrf: z.string(), text: z.string().trim().min(1).max(7000) });

/**
 * Registers `/space`, `GET /space/events` (the live page's event stream), `POST /space/messages` and the webhook
 * receiver that feeds the stream (`POST /space/webhook`, space/receiver.ts).
 */
export const spaceRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  const tls = Boolean((app.initialConfig as { https?: unknown }).https);
  const live = new SpaceLive({
    ctx,
    log: app.log,
    webhookTarget: () => webhookTarget(ctx.config, app.server.address(), tls),
  });
  await app.register(spaceWebhookRoutes, { live });
  // Streams end before the server closes (an open stream would hold close() until the browser left).
  app.addHook('preClose', async () => live.close());
  app.get('/space', async (request, reply) => {
    const { botToken, spaceId } = ctx.config;
    const csrf = request.csrf;
    if (!botToken || !spaceId) return reply.page('Space demo', spaceView({ kind: 'unconfigured' }));
    const connection = await latestConnection(ctx, request);
    if (!connection)
      return reply.page('Space demo', spaceView({ kind: 'needs-connection', csrf, scopes: SPACE_SCOPES }));
    try {
      const { accessToken } = await ctx.vault.connections.getFreshToken(connection.id, 60);
      const client = new WebexClient({ apiBase: ctx.config.apiBase, accessToken, fetch: ctx.fetch });
      const room = await client.request('GET', `/rooms/${encodeURIComponent(spaceId)}`);
      if (room.status !== 200)
        throw new WebexApiError({
          method: 'GET',
          path: '/rooms/{roomId}',
          status: room.status,
          trackingId: room.trackingId,
        });
      const messages: SpaceMessage[] = [];
      for await (const m of client.listMessages({ roomId: spaceId, max: 50 })) {
        messages.push(await spaceMessage(m));
        if (messages.length >= 50) break;
      }
      const title =
        typeof (room.body as { title?: unknown })?.title === 'string'
          ? (room.body as { title: string }).title
          : 'Space';
      return reply.page(
        'Space demo',
        spaceView({
          kind: 'space',
          csrf,
          title,
          person: connection.person.displayName,
          messages: messages.reverse(),
        }),
      );
    } catch (error) {
      const status = (error as { status?: number }).status;
      const e = explainOAuthError(error);
      const explanation =
        status === 404
          ? 'You are not a member of the demo space (the bot adds you when you authorize).'
          : status === 403
            ? `Your token lacks a scope the space demo needs (${SPACE_SCOPES.join(', ')}).`
            : e.explanation;
      return reply.page(
        'Space demo',
        spaceView({ kind: 'problem', csrf, title: e.title, explanation, scopes: SPACE_SCOPES }),
        200,
      );
    }
  });

  // The same access as /space (a member; in team mode a signed-in account), and the same connection: the owner's.
  app.get('/space/events', async (request, reply) => {
    const connection = ctx.config.botToken && ctx.config.spaceId ? await latestConnection(ctx, request) : undefined;
    // 204 tells EventSource not to reconnect: there is nothing to stream.
    if (!connection) return reply.code(204).send();
    const ownerId = request.principal.ownerId ?? connection.ownerId;
    const refusal = live.streams.refusal(ownerId);
    if (refusal) {
      return reply
        .code(429)
        .header('retry-after', '30')
        .type('application/problem+json')
        .send({
          type: 'about:blank',
          title: refusal === 'owner-limit' ? 'Too many open space pages' : 'Too many open event streams',
          status: 429,
          code: 'too_many_streams',
        });
    }
    reply.hijack();
    if (!live.streams.open(ownerId, connection.id, reply.raw)) return;
    try {
      const mode = await live.attach(connection.id);
      if (!reply.raw.writableEnded) live.streams.sendTo(reply.raw, 'ready', { mode });
    } catch (error) {
      request.log.warn({ err: { name: (error as Error).name } }, 'space demo: the live feed did not start');
      reply.raw.end();
    }
  });

  app.post('/space/messages', async (request, reply) => {
    const { spaceId } = ctx.config;
    const parsed = messageBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      return reply.errorPage({
        status: 400,
        title: 'Empty message',
        explanation: 'A message needs between 1 and 7000 characters.',
        action: 'Write a message and send it again.',
        retryHref: '/space',
      });
    }
    const connection = await latestConnection(ctx, request);
    if (!spaceId || !connection) return reply.code(303).redirect('/space');
    try {
      const { accessToken } = await ctx.vault.connections.getFreshToken(connection.id, 60);
      const client = new WebexClient({ apiBase: ctx.config.apiBase, accessToken, fetch: ctx.fetch });
      // Sent as markdown, as a Webex client sends what a person types (Webex derives the plain `text`).
      await client.createMessage({ roomId: spaceId, markdown: parsed.data.text });
    } catch (error) {
      const e = explainOAuthError(error);
      return reply.errorPage({ status: 502, ...e, retryHref: '/space' });
    }
    return reply.code(303).redirect('/space');
  });
};
