/**
 * The OAuth routes: `POST /oauth/start` (fresh state + PKCE + nonce, sealed into a cookie of this browser as its
 * pending authorization, bound to its flow id; then a redirect to Webex) and the callback, served at the path of each
 * redirect URI in use (`/oauth` by default, `/webex-auth.html` as the Webex guides register it). The callback takes
 * the state in the store before the code exchange, so a reused callback URL never exchanges twice, and answers with
 * the new connection's page.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { createAuthorizationRequest } from '../../oauth/authorize.js';
import { parseCallback } from '../../oauth/callback.js';
import { CallbackError, IdTokenError, ScopeError, StateMismatchError, WebexOAuthError } from '../../oauth/errors.js';
import { exchangeCode } from '../../oauth/tokens.js';
import { scopeInfo } from '../../scopes/catalog.js';
import { CONFIGURED_OWNER } from '../../vault/types.js';
import { WebexApiError } from '../../webex/errors.js';
import { resolvePerson } from '../../webex/person.js';
import { owns } from '../access/principal.js';
import { returnPath } from '../access/return-path.js';
import { personDetail, recordAudit } from '../audit.js';
import type { ServerContext } from '../context.js';
import { explainError as explainOAuthError } from '../explain.js';
import { SESSION_LIMITS } from '../session.js';
import { SCOPE_PRESETS } from '../views/home.js';
import { connectionPath } from '../views/paths.js';
import { connectionFacts, sendConnectionPage } from './connections.js';
import { completeSignIn, type RouteOptions } from './signin.js';
import { addPersonToSpace } from './space.js';

/** The largest query string the callback accepts (Webex codes and states are well below 1 KB). */
export const MAX_CALLBACK_QUERY = 4096;

const startBody = z.object({
  _csrf: z.string(),
  preset: z.string().max(40).optional(),
  scope: z.union([z.string().max(100), z.array(z.string().max(100)).max(100)]).optional(),
  /** Extra scopes as one space-separated string (the "authorize again with …" buttons). */
  scopes: z.string().max(4000).optional(),
  /** A local path to land on after the authorization (access/return-path.ts); anything else is refused. */
  return_to: z.string().max(400).optional(),
});

/** Runs `fn` (vault calls with no network wait between them) with its store writes committed together. */
export function writeTogether<T>(ctx: ServerContext, fn: () => Promise<T>): Promise<T> {
  return ctx.vault.writeTogether ? ctx.vault.writeTogether(fn) : fn();
}

/** Which integration a flow in this session uses: the one the browser brought, else the configured one. */
export function integrationIdFor(ctx: ServerContext, request: FastifyRequest): string | undefined {
  return request.server.sessions.data(request).integrationId ?? ctx.defaultIntegrationId;
}

/** Starts an authorization for `scopes` and redirects to Webex. */
async function start(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  scopes: string[],
  returnTo?: string,
) {
  const integrationId = integrationIdFor(ctx, request);
  const integration = integrationId ? await ctx.vault.integrations.get(integrationId) : undefined;
  // A brought integration serves only its owner's flows; the configured one serves every member.
  const usable =
    integration && (integration.ownerId === CONFIGURED_OWNER || owns(request.principal, integration.ownerId));
  if (!integrationId || !integration || !usable) {
    return reply.errorPage({
      status: 400,
      title: 'No integration configured',
      explanation: 'There is no Webex integration to authorize with yet.',
      action: 'Enter your integration’s client id and secret on the home page.',
    });
  }
  let authorization: ReturnType<typeof createAuthorizationRequest>;
  try {
    authorization = createAuthorizationRequest({ integration, scopes });
  } catch (error) {
    if (!(error instanceof ScopeError)) throw error;
    const e = explainOAuthError(error);
    return reply.errorPage({ status: 400, ...e });
  }
  const held = request.server.sessions.holdPending(request, reply, {
    purpose: 'connect',
    integrationId,
    pending: authorization.pending,
    ownerId: request.principal.ownerId,
    ...(returnTo ? { returnTo } : {}),
  });
  if (held === 'full') {
    return reply.header('retry-after', '60').errorPage({
      status: 429,
      title: 'Too many authorizations in progress',
      explanation: `This browser has ${SESSION_LIMITS.maxPending} authorizations waiting for an answer from Webex.`,
      action: 'Finish or abandon them (they expire after 15 minutes), then start again.',
    });
  }
  if (held === 'too-large') {
    return reply.errorPage({
      status: 400,
      title: 'Authorization too large',
      explanation:
        'This authorization does not fit in a cookie of this browser: too many scopes at once, or a very long redirect URI.',
      action: 'Pick fewer scopes, then start again.',
    });
  }
  // The URL is built from the stored integration's API base, never from the request: no open redirect.
  return reply.code(303).redirect(authorization.url);
}

function hasCallbackParams(query: Record<string, unknown>): boolean {
  return 'state' in query || 'code' in query || 'error' in query;
}

/**
 * Whether `path` serves the callback of a flow this browser started (a brought integration's redirect URI): served
 * only for its owner's flows — a pending authorization of this browser for that path, or a state it took already (the
 * callback then answers "already used") — never as a path open to everyone.
 */
export async function isPendingCallback(ctx: ServerContext, request: FastifyRequest, path: string): Promise<boolean> {
  const state = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1)).get('state');
  if (!state) return false;
  const { flowId, key, sealed } = request.server.sessions.pendingFor(request, state);
  if (!flowId) return false;
  const opened = ctx.vault.sessions.openPending(flowId, key, sealed);
  if (opened) return opened.pending.state === state && opened.redirectPath === path;
  return (await ctx.vault.sessions.findTaken(flowId, state)) !== undefined;
}

/**
 * Handles the authorization callback at `request.url`: a sign-in, or a connection for the owner who started the flow
 * (the request's principal must still be that owner).
 */
export async function handleCallback(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const sessions = ctx.vault.sessions;
  const browser = request.server.sessions;
  const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  if (rawQuery.length > MAX_CALLBACK_QUERY) {
    return reply.errorPage({
      status: 414,
      title: 'Authorization answer too long',
      explanation: 'The address this page was opened with is far longer than any answer from Webex.',
      action: 'Start the authorization again from the home page.',
    });
  }
  const params = new URLSearchParams(rawQuery);
  const state = params.get('state') ?? '';
  // This browser's pending authorization of `state` (its cookie, sealed to its flow id), taken before parsing: at most
  // once across every instance sharing the store (an atomic INSERT of the state's hash). Its cookie goes either way.
  const { flowId, key, sealed } = browser.pendingFor(request, state);
  if (sealed !== undefined) browser.clearPendingCookie(request, reply, key);
  const taken = flowId ? await sessions.takePending(flowId, state, sealed) : undefined;
  try {
    // Checked before parseCallback reads `error`: Webex's error_description is shown only for an answer to a flow
    // this browser started; any other callback (a link another site planted) gets the fixed mismatch text.
    if (!taken) throw new StateMismatchError('no pending authorization');
    const parsed = parseCallback(params, (s) => (s === taken.pending.state ? taken.pending : undefined));
    const integration = await ctx.vault.getIntegrationWithSecret(taken.integrationId);
    if (!integration) throw new StateMismatchError('integration gone');
    if (taken.purpose === 'signin') {
      // A sign-in is always started in a session (signin.ts).
      if (!request.session) throw new StateMismatchError('sign-in without a session');
      return await completeSignIn(ctx, request, reply, integration, parsed);
    }
    // The connection belongs to whoever started the flow; if the browser signed in as someone else since, it is refused.
    const ownerId = request.principal.ownerId;
    if (ownerId === undefined || taken.ownerId !== ownerId) {
      throw new StateMismatchError('the flow was started by another account of this browser');
    }
    const tokens = await exchangeCode(integration, parsed, { fetch: ctx.fetch });
    // With openid, the id_token is verified (signature against the JWKS, audience, nonce, issuer) before anything is
    // stored: a token set whose id_token fails is not from this flow. Its `sub` identifies the person when people/me is refused.
    // oidc.js (and jose) is loaded on the first openid flow, not at start-up (bench/startup.mjs).
    const claims = parsed.pending.nonce
      ? await (await import('../../oauth/oidc.js')).verifyTokenSetIdToken(tokens, integration, parsed.pending, {
          fetch: ctx.fetch,
          ...(ctx.config.issuer ? { issuer: ctx.config.issuer } : {}),
        })
      : undefined;
    // people/me, else the id_token's sub, else userinfo: the same person id whatever was granted, so authorizing again
    // (with more scopes) updates this person's connection. Without any, the connection is stored under a placeholder.
    const { person, me } = await resolvePerson({
      apiBase: integration.apiBase,
      tokens,
      claims,
      fetch: ctx.fetch,
    });
    // A return path asked for when the flow started (checked then, and again here: it came out of storage).
    const next = returnPath(taken.returnTo);
    // From here to the new session id nothing waits on the network: the writes are committed together, and the
    // connection page's facts are read in the same transaction.
    const { connection, facts } = await writeTogether(ctx, async () => {
      const saved = await ctx.vault.connections.saveFromGrant({
        ownerId,
        integrationId: taken.integrationId,
        tokens,
        person,
        requestedScopes: parsed.pending.scopes,
      });
      await sessions.completePending(parsed.pending.state, saved.id);
      // An update keeps the row's createdAt: a grant for a person this owner had connected is a re-authorization.
      await recordAudit(ctx, request, {
        action: saved.createdAt === saved.updatedAt ? 'connect' : 'reauthorize',
        ownerId,
        target: saved.id,
        detail: personDetail(saved),
      });
      // A completed authorization gives the session a new id: a cookie planted before no longer reaches this connection.
      // A browser without a session (a flow id) has none to rotate, and gets none.
      if (request.session) await request.server.sessions.rotate(request, reply);
      // The page is the answer unless the flow asked to return elsewhere. The grant is stored by now: a failed read
      // of the page's facts must not make it an error page (the redirect to the page below reads them again).
      const facts = next
        ? undefined
        : await connectionFacts(ctx, saved).catch((error: unknown) => {
            request.log.warn({ err: { name: (error as Error).name } }, 'connection page facts not read');
            return undefined;
          });
      return { connection: saved, facts };
    });
    // The space demo belongs to the local demo: a team server never adds its members to the bot's space.
    if (me && ctx.config.accessMode === 'local') await addPersonToSpace(ctx, me, request.log);
    if (next || !facts) return reply.code(303).redirect(next ?? connectionPath(connection.id));
    // Else the answer is the connection page itself, one round trip sooner than a redirect to it: it names its own
    // address (Content-Location, a canonical link that app.js puts in the address bar), so a reload opens the page
    // instead of the spent callback. No-store and no-referrer, as every page: the spent code is in this address.
    return sendConnectionPage(ctx, request, reply, connection, {
      integration,
      facts,
      // What was just stored, as revealTokens would read it back.
      tokens: {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: connection.accessExpiresAt,
        refreshExpiresAt: connection.refreshExpiresAt,
      },
    });
  } catch (error) {
    const used = taken || !flowId ? undefined : await sessions.findTaken(flowId, state);
    if (error instanceof StateMismatchError && used) {
      const connectionId = used.connectionId;
      return reply.errorPage({
        status: 409,
        title: 'This authorization was already used',
        explanation:
          'This answer from Webex has been handled once already; its code is never exchanged twice (reloading or reopening the page does that).',
        action: connectionId ? 'Open your connection, or start a new authorization.' : 'Start a new authorization.',
        retryHref: connectionId ? connectionPath(connectionId) : '/',
      });
    }
    if (
      error instanceof StateMismatchError ||
      error instanceof CallbackError ||
      error instanceof IdTokenError ||
      error instanceof WebexOAuthError ||
      error instanceof WebexApiError
    ) {
      // An invalid_scope names what was refused: the pending authorization's scopes against the integration's.
      const context =
        error instanceof WebexOAuthError && error.code === 'invalid_scope' && taken
          ? {
              requestedScopes: taken.pending.scopes,
              integrationScopes: (await ctx.vault.integrations.get(taken.integrationId).catch(() => undefined))?.scopes,
            }
          : undefined;
      const e = explainOAuthError(error, context);
      const code = error instanceof WebexOAuthError ? String(error.code) : (error as { code?: string }).code;
      const status = error instanceof WebexOAuthError && error.retryable ? 502 : 400;
      request.log.info({ err: { name: (error as Error).name, code } }, 'authorization failed');
      return reply.errorPage({ status, ...e, code: code?.slice(0, 64) });
    }
    throw error;
  }
}

/** Registers `/oauth/start` and the callback paths. */
export const oauthRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  app.post('/oauth/start', async (request, reply) => {
    const parsed = startBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      return reply.errorPage({
        status: 400,
        title: 'Invalid scope list',
        explanation: 'The form sent something that is not a list of scopes.',
        action: 'Go back to the home page and pick scopes again.',
      });
    }
    const { preset, scope, scopes: extra, return_to: returnTo } = parsed.data;
    if (returnTo !== undefined && !returnPath(returnTo)) {
      return reply.errorPage({
        status: 400,
        title: 'Invalid return address',
        explanation: 'The form asked to return to an address outside this app’s pages after authorizing.',
        action: 'Go back to the home page and start again.',
      });
    }
    let scopes: string[];
    if (preset) {
      const p = SCOPE_PRESETS.find((x) => x.id === preset);
      if (!p)
        return reply.errorPage({
          status: 400,
          title: 'Unknown preset',
          explanation: 'That preset does not exist.',
          action: 'Pick scopes on the home page.',
        });
      scopes = [...p.scopes];
    } else {
      scopes = [...(Array.isArray(scope) ? scope : scope ? [scope] : []), ...(extra ? extra.split(/\s+/) : [])];
    }
    scopes = scopes.filter((s) => s !== '');
    if (scopes.length === 0) {
      return reply.errorPage({
        status: 400,
        title: 'No scope chosen',
        explanation: 'Webex needs at least one scope to issue a token.',
        action: 'Pick at least one scope, or one of the presets.',
      });
    }
    const unknown = scopes.find((s) => !scopeInfo(s));
    if (unknown !== undefined) {
      return reply.errorPage({
        status: 400,
        title: 'Unknown scope',
        explanation: `"${unknown.length > 80 ? `${unknown.slice(0, 80)}…` : unknown}" is not a Webex scope.`,
        action: 'Pick scopes from the list on the home page.',
      });
    }
    return start(ctx, request, reply, scopes, returnTo);
  });
  // The sign-in callback and the configured integration's: open to anyone (the handler checks the state).
  for (const path of ctx.callbackPaths) {
    app.get(path, { config: { access: 'anyone' } }, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      if (path === '/' && !hasCallbackParams(query)) return reply.redirect('/home');
      return handleCallback(ctx, request, reply);
    });
  }
};
