/**
 * The space demo (what the Webex sample's widget shows): after a person authorizes, the bot (`BOT_TOKEN`) adds them to
 * the space (`SPACE_ID`), and `/space` shows its messages and a composer through the person's own token.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { WebexClient } from '../../webex/client.js';
import { WebexApiError } from '../../webex/errors.js';
import type { Person } from '../../webex/schemas.js';
import type { ServerContext } from '../context.js';
import { explainError as explainOAuthError } from '../explain.js';
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

/** `2026-11-23 09:05 UTC` from an ISO time; anything else as given. */
function shortTime(iso: unknown): string {
  return typeof iso === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso)
    ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
    : String(iso ?? '');
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

/** Registers `/space` and `POST /space/messages`. */
export const spaceRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
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
        messages.push({
          who: String(m.personEmail ?? ''),
          text: String(m.text ?? ''),
          created: shortTime(m.created),
        });
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
      await client.createMessage({ roomId: spaceId, text: parsed.data.text });
    } catch (error) {
      const e = explainOAuthError(error);
      return reply.errorPage({ status: 502, ...e, retryHref: '/space' });
    }
    return reply.code(303).redirect('/space');
  });
};
