/**
 * The result page `/connections/:id` and its actions (refresh, try it, delete). Only the connection's owner, or an
 * admin, may see or act on it; anyone else gets the same 404 as for an unknown id.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { scopesForEndpoint } from '../../scopes/catalog.js';
import { TokenCapError, type TokenCapStatus } from '../../vault/cap.js';
import type { RefreshRecord } from '../../vault/history.js';
import type { RecentProxyCall } from '../../vault/proxy-calls.js';
import { type Connection, type IntegrationRecord, type RevealedTokens, VaultError } from '../../vault/types.js';
import { type RawResponse, WebexClient } from '../../webex/client.js';
import { owns } from '../access/principal.js';
import { personDetail, recordAudit } from '../audit.js';
import type { ServerContext } from '../context.js';
import { explainError as explainOAuthError } from '../explain.js';
import { SessionLimitError, type TryResult } from '../session.js';
import { RECENT_ROOM_CALL, TRY_CALL_IDS, TRY_CALLS, type TryCall } from '../try-calls.js';
import { connectionView } from '../views/connection.js';
import { connectionPath } from '../views/paths.js';
import { createAccountLimiter } from './account-limit.js';
import { auditRefresh, refusedText, retrySeconds } from './forced-refresh.js';
import type { RouteOptions } from './signin.js';

const idParams = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/),
});
const tryBody = z.object({ _csrf: z.string(), endpoint: z.enum(TRY_CALL_IDS) });
/** The id of a space as Webex answers it (unpadded base64), before it goes into a query. */
const roomIdSchema = z.string().regex(/^[A-Za-z0-9+/_=-]{1,300}$/);
const recentRoomSchema = z.object({ items: z.array(z.object({ id: roomIdSchema })).max(1) });
/** Proxied calls the page lists (the store keeps the newest 100 per connection). */
const RECENT_CALLS_SHOWN = 25;

/** The one-shot Try-it results of this session. */
const flash = (request: FastifyRequest): Record<string, TryResult> | undefined =>
  request.server.sessions.data(request).flash;

/** What the connection page shows of a connection's life: its person's live-token cap, its refreshes, its proxy calls. */
export interface ConnectionFacts {
  tokenCap: TokenCapStatus | undefined;
  history: RefreshRecord[];
  recentCalls: RecentProxyCall[] | undefined;
}

/** Reads the {@link ConnectionFacts} of `connection`. */
export async function connectionFacts(
  ctx: ServerContext,
  connection: Pick<Connection, 'id' | 'person'>,
): Promise<ConnectionFacts> {
  const { id } = connection;
  const [tokenCap, history, recentCalls] = await Promise.all([
    ctx.vault.connections.tokenCap(id, connection.person.id),
    ctx.vault.connections.history(id, 50),
    ctx.vault.proxyCalls?.recent(id, RECENT_CALLS_SHOWN),
  ]);
  return { tokenCap, history, recentCalls };
}

/**
 * Sends the connection page of `connection`, which the request may see (its owner or an admin). `callback`: the page
 * is the OAuth callback's answer, which has at hand the integration, the tokens just stored and the facts it read in
 * its write transaction (nothing is read again), and the page names its own address in a canonical link.
 */
export async function sendConnectionPage(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  connection: Connection,
  callback?: { integration: Pick<IntegrationRecord, 'apiBase'>; tokens: RevealedTokens; facts: ConnectionFacts },
): Promise<FastifyReply> {
  const tokens = callback?.tokens ?? (await ctx.vault.connections.revealTokens(connection.id));
  const tryResult = flash(request)?.[connection.id];
  if (tryResult) {
    delete flash(request)?.[connection.id];
    await request.server.sessions.save(request);
  }
  const integration = callback?.integration ?? (await ctx.vault.integrations.get(connection.integrationId));
  const facts = callback?.facts ?? (await connectionFacts(ctx, connection));
  return reply.page(
    connection.person.displayName,
    connectionView({
      ...facts,
      csrf: request.csrf,
      connection,
      tokens,
      apiBase: integration?.apiBase ?? ctx.config.apiBase,
      now: Date.now(),
      tryResult,
      showAvatar: ctx.config.mode !== 'demo',
    }),
    undefined,
    callback ? connectionPath(connection.id) : undefined,
  );
}

/** Registers the connection pages. */
export const connectionRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  /** The connection of `:id` if this request may see it. */
  async function load(request: FastifyRequest) {
    const parsed = idParams.safeParse(request.params);
    if (!parsed.success) return undefined;
    const connection = await ctx.vault.connections.get(parsed.data.id);
    return connection && owns(request.principal, connection.ownerId) ? connection : undefined;
  }
  /** Per-account budget of "Revoke at Webex". */
  const limited = createAccountLimiter();
  const notFound = {
    status: 404,
    title: 'Connection not found',
    explanation: 'There is no connection with this id that you own (or it was deleted).',
    action: 'Authorize again from the home page.',
  };

  app.get('/connections/:id', async (request, reply) => {
    const connection = await load(request);
    if (!connection) return reply.errorPage(notFound);
    return sendConnectionPage(ctx, request, reply, connection);
  });

  app.post('/connections/:id/refresh', async (request, reply) => {
    const connection = await load(request);
    if (!connection) return reply.errorPage(notFound);
    const audited = ctx.vault;
    try {
      await ctx.vault.connections.refresh(connection.id);
    } catch (error) {
      // Near Webex's live-token cap (vault/cap.ts): refused and recorded; the stored token is still served.
      if (error instanceof TokenCapError) {
        const seconds = retrySeconds(error.retryAfter);
        await auditRefresh(audited, request, 'refresh.refused', connection, error.auditDetail);
        reply.header('retry-after', String(seconds));
        return reply.errorPage({
          status: 429,
          title: 'Near the live-token cap',
          explanation: error.message,
          action: 'Wait until the oldest tokens expire. Keep-alive refreshes still run, so the connection stays alive.',
          retryHref: `/connections/${connection.id}`,
        });
      }
      // A refused refresh minted nothing and is not logged: a member could otherwise write audit rows at request rate.
      if (error instanceof VaultError && error.code === 'rate_limited') {
        const seconds = retrySeconds(error.retryAfter);
        reply.header('retry-after', String(seconds));
        return reply.errorPage({
          status: 429,
          title: 'Refreshed moments ago',
          explanation: `${refusedText(seconds)} Webex caps the live tokens of a person, so forced refreshes are limited per connection.`,
          action: `Wait ${seconds} s, then try again. The stored access token stays valid meanwhile.`,
          retryHref: `/connections/${connection.id}`,
        });
      }
      // A bot: its token does not expire, so there is nothing to refresh (nothing ran, nothing to record).
      if (error instanceof VaultError && error.code === 'invalid_request') {
        return reply.errorPage({
          status: 400,
          title: 'Nothing to refresh',
          explanation: error.message,
          action: 'The stored token is served as it is.',
          retryHref: `/connections/${connection.id}`,
        });
      }
      if (!(error instanceof VaultError && error.code === 'not_found')) {
        await auditRefresh(audited, request, 'refresh.forced', connection, 'failed');
      }
      const e = explainOAuthError(error);
      return reply.errorPage({ status: 502, ...e, retryHref: `/connections/${connection.id}` });
    }
    await auditRefresh(audited, request, 'refresh.forced', connection);
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
        explanation: `Try it offers ${Object.values(TRY_CALLS)
          .map((c) => c.label)
          .join(', ')} only.`,
        action: 'Pick one of the buttons.',
        retryHref: `/connections/${connection.id}`,
      });
    }
    const call: TryCall = TRY_CALLS[body.data.endpoint];
    const email = connection.person.email || connection.person.emails[0];
    if (call.withOwnEmail && !email) {
      return reply.errorPage({
        status: 400,
        title: 'Email not known',
        explanation: `${call.label} looks up this person's email, which this connection does not know.`,
        action: 'Authorize again with spark:people_read, then try it.',
        retryHref: `/connections/${connection.id}`,
      });
    }
    const integration = await ctx.vault.integrations.get(connection.integrationId);
    try {
      const { accessToken } = await ctx.vault.connections.getFreshToken(connection.id, 60);
      const client = new WebexClient({
        apiBase: integration?.apiBase ?? ctx.config.apiBase,
        accessToken,
        fetch: ctx.fetch,
      });
      const result = await tryCall(client, call, email);
      // The result is shown once on the next page: a session holds it (made here when the browser had none).
      const session = await request.server.sessions.ensure(request, reply);
      const data = session.data as { flash?: Record<string, TryResult> };
      // One result kept per connection, and results of at most 20 connections.
      data.flash = Object.fromEntries([...Object.entries(data.flash ?? {}), [connection.id, result]].slice(-20));
      await request.server.sessions.save(request);
    } catch (error) {
      // Not Webex's failure: the app's error handler answers it with its 429 page.
      if (error instanceof SessionLimitError) throw error;
      const e = explainOAuthError(error);
      return reply.errorPage({ status: 502, ...e, retryHref: `/connections/${connection.id}` });
    }
    return reply.code(303).redirect(`/connections/${connection.id}#try`);
  });

  // "Revoke at Webex": deletes the grant through an admin connection of the person's org (vault/reconcile.ts), or
  // says exactly what is missing. Owner or admin (load), POST with the CSRF token (the security plugin checks it).
  app.post('/connections/:id/revoke-at-webex', async (request, reply) => {
    const connection = await load(request);
    if (!connection) return reply.errorPage(notFound);
    // Each try spends an admin's Webex calls and an audit row: budgeted per account.
    const refused = limited(request, reply, 'revoke-at-webex', {
      title: 'Too many revocations',
      what: 'Grants are revoked at Webex',
      retryHref: `/connections/${connection.id}`,
    });
    if (refused) return refused;
    try {
      const { deleted } = await ctx.vault.connections.revokeAtWebex(connection.id);
      await recordAudit(ctx, request, {
        action: 'connection.revoke',
        ownerId: connection.ownerId,
        target: connection.id,
        detail: `${deleted} authorization${deleted === 1 ? '' : 's'} deleted at Webex`,
      });
    } catch (error) {
      if (error instanceof VaultError && error.code === 'conflict') {
        return reply.errorPage({
          status: 409,
          title: 'Cannot revoke at Webex',
          explanation: error.message,
          action: revokeAction(connection),
          retryHref: `/connections/${connection.id}`,
        });
      }
      const e = explainOAuthError(error);
      return reply.errorPage({ status: 502, ...e, retryHref: `/connections/${connection.id}` });
    }
    return reply.code(303).redirect(`/connections/${connection.id}`);
  });

  app.post('/connections/:id/delete', async (request, reply) => {
    const connection = await load(request);
    if (!connection) return reply.errorPage(notFound);
    if (await ctx.vault.connections.delete(connection.id)) {
      await recordAudit(ctx, request, {
        action: 'connection.delete',
        ownerId: connection.ownerId,
        target: connection.id,
        detail: personDetail(connection),
      });
    }
    return reply.code(303).redirect('/');
  });
};

/** What to do when "Revoke at Webex" cannot (a 409): each cause its own next step. */
function revokeAction(c: Pick<Connection, 'status' | 'needsReauthReason' | 'kind'>): string {
  if (c.status === 'needs_reauth' && c.needsReauthReason === 'revoked_at_webex') {
    return 'Nothing left to revoke: authorize again if this connection is still needed, else delete it.';
  }
  if (c.kind === 'bot') return "Regenerate the bot's token at developer.webex.com, then delete this connection.";
  return 'Connect an admin of this org with identity:tokens_read and identity:tokens_write, then try again.';
}

/** Makes one call of the Try-it table; the values it needs come from the connection or from Webex, never the form. */
async function tryCall(client: WebexClient, call: TryCall, email: string | undefined): Promise<TryResult> {
  const outcome = (label: string, method: string, path: string, r: RawResponse, extraMs = 0): TryResult => ({
    label,
    status: r.status,
    durationMs: r.durationMs + extraMs,
    trackingId: r.trackingId,
    body: r.body,
    ...(r.status === 403 ? { requiredScopes: scopesForEndpoint(method, path) } : {}),
  });
  const query: Record<string, string | number> = { ...call.query };
  let label = call.label;
  let spentMs = 0;
  if (call.withOwnEmail) {
    // The route checked that the email is known; the person's own email, never one from the form.
    query.email = email ?? '';
    label = `GET /people?email=${query.email}`;
  }
  if (call.inRecentRoom) {
    const rooms = await client.request(RECENT_ROOM_CALL.method, RECENT_ROOM_CALL.path, {
      query: RECENT_ROOM_CALL.query,
    });
    const step = 'GET /rooms?sortBy=lastactivity&max=1 (to find your most recent space)';
    if (rooms.status !== 200) return outcome(step, RECENT_ROOM_CALL.method, RECENT_ROOM_CALL.path, rooms);
    const recent = recentRoomSchema.safeParse(rooms.body);
    const roomId = recent.success ? recent.data.items[0]?.id : undefined;
    if (!roomId)
      return { ...outcome(step, RECENT_ROOM_CALL.method, RECENT_ROOM_CALL.path, rooms), label: `${step}: no space` };
    query.roomId = roomId;
    label = `${call.label} in your most recent space`;
    spentMs = rooms.durationMs;
  }
  return outcome(label, call.method, call.path, await client.request(call.method, call.path, { query }), spentMs);
}
