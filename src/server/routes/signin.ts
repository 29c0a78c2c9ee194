/**
 * Sign in with Webex (team mode): OpenID Connect through the configured integration and its redirect URI — code +
 * PKCE + nonce, scopes `openid email profile spark:people_read`. The account is the Webex person: `sub`, the email
 * from the id_token or userinfo (`email_verified` as a boolean or the string "true"), the name, and `orgId` from
 * people/me. `ALLOWED_EMAIL_DOMAINS` and `ALLOWED_ORG_IDS` restrict who may sign in. The sign-in token pair is used
 * for those look-ups and then dropped, never stored.
 *
 * Also: `POST /signout`, and `POST /admin/unlock` (local mode with ADMIN_TOKEN: the admin pages ask for it once).
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { Config } from '../../config.js';
import { createAuthorizationRequest } from '../../oauth/authorize.js';
import type { ParsedCallback } from '../../oauth/callback.js';
import { exchangeCode } from '../../oauth/tokens.js';
import type { Integration } from '../../oauth/types.js';
import { plainText } from '../../vault/audit.js';
import { LOCAL_OPERATOR } from '../../vault/types.js';
import { WebexClient } from '../../webex/client.js';
import { WebexApiError } from '../../webex/errors.js';
import { sameSecret } from '../access/principal.js';
import { recordAudit } from '../audit.js';
import type { ServerContext } from '../context.js';
import type { SessionData, SessionLimitError } from '../session.js';
import { adminUnlockView, localPath } from '../views/signin.js';

/** The scopes of Sign in with Webex. */
export const SIGNIN_SCOPES = ['openid', 'email', 'profile', 'spark:people_read'] as const;

/** Options of the plugins of this folder: the shared server context. */
export interface RouteOptions {
  ctx: ServerContext;
}

/** Why a person may not sign in, or undefined when they may. Plain text for the refusal page. */
export function signInRefusal(
  config: Pick<Config, 'allowedEmailDomains' | 'allowedOrgIds'>,
  who: { email: string | undefined; emailVerified: boolean; orgId: string | undefined },
): string | undefined {
  if (!who.email) return 'Webex did not share an email address for this account.';
  // ASCII only: String#toLowerCase folds some other letters into ASCII ("\u212Aate" → "kate"), which would let a
  // look-alike address match an admin's or an allowed domain.
  if (!/^[\x21-\x7e]+@[\x21-\x7e]+$/.test(who.email))
    return 'This account’s email address is not one this server accepts.';
  if (!who.emailVerified) return `Webex does not say that the email address ${who.email} is verified.`;
  const domain = who.email.slice(who.email.lastIndexOf('@') + 1).toLowerCase();
  if (
    config.allowedEmailDomains.length &&
    !config.allowedEmailDomains.includes('*') &&
    !config.allowedEmailDomains.includes(domain)
  ) {
    return `Accounts of ${domain} may not sign in to this server (it is open to ${config.allowedEmailDomains.join(', ')}).`;
  }
  if (config.allowedOrgIds.length && (!who.orgId || !config.allowedOrgIds.includes(who.orgId))) {
    return 'Accounts of your Webex organization may not sign in to this server.';
  }
  return undefined;
}

/** Answers a refused session creation (too many from one address); the app's error handler calls it. */
export function sessionLimitPage(reply: FastifyReply, error: SessionLimitError) {
  return reply.header('retry-after', String(error.retryAfter)).errorPage({
    status: 429,
    title: 'Too many new sessions',
    explanation: 'This address started more sessions than this server allows in a short time.',
    action: `Wait ${error.retryAfter} s, then try again.`,
  });
}

/**
 * Finishes a sign-in whose pending authorization the callback took: code exchange, id_token verification, the
 * person's email and org, the allow-lists, then the account goes into a session with a new id.
 */
export async function completeSignIn(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  integration: Integration,
  parsed: ParsedCallback,
) {
  const tokens = await exchangeCode(integration, parsed, { fetch: ctx.fetch });
  const { verifyTokenSetIdToken, fetchUserInfo } = await import('../../oauth/oidc.js');
  const claims = await verifyTokenSetIdToken(tokens, integration, parsed.pending, {
    fetch: ctx.fetch,
    ...(ctx.config.issuer ? { issuer: ctx.config.issuer } : {}),
  });
  let email = typeof claims.email === 'string' ? claims.email : undefined;
  let verified: unknown = claims.email_verified;
  if (!email) {
    const info = await fetchUserInfo(integration.apiBase, tokens.accessToken, { fetch: ctx.fetch });
    email = info.email;
    verified = info.email_verified;
  }
  const client = new WebexClient({ apiBase: integration.apiBase, accessToken: tokens.accessToken, fetch: ctx.fetch });
  const person = await client.peopleMe().catch((error: unknown) => {
    if (error instanceof WebexApiError && error.status === 403) return undefined;
    throw error;
  });
  // Verified when the id_token or userinfo says so, or (when they say nothing) when people/me lists the address.
  const emailVerified =
    verified === true ||
    verified === 'true' ||
    (verified === undefined && !!email && !!person?.emails?.some((e) => e.toLowerCase() === email?.toLowerCase()));
  const refusal = signInRefusal(ctx.config, { email, emailVerified, orgId: person?.orgId });
  if (refusal || !email) {
    await request.server.sessions.destroy(request, reply);
    request.log.info({ domain: email?.slice(email.lastIndexOf('@') + 1) }, 'sign-in refused');
    // The domain only: the person is not an account, and the refusal text names them.
    const domain = email ? plainText(email.slice(email.lastIndexOf('@') + 1), 100) : undefined;
    await recordAudit(ctx, request, {
      actor: { kind: 'anonymous' },
      action: 'signin.refused',
      detail: domain ? `domain ${domain}` : 'no email address',
    });
    return reply.errorPage({
      status: 403,
      title: 'Sign-in refused',
      explanation: refusal ?? 'Webex did not share an email address for this account.',
      action: 'Sign in with an account this server allows, or ask its admin to allow yours.',
    });
  }
  const account = await ctx.vault.accounts.upsert({
    personId: claims.sub,
    email: email.toLowerCase(),
    displayName: person?.displayName ?? (typeof claims.name === 'string' ? claims.name : email),
    orgId: person?.orgId,
  });
  const session = await request.server.sessions.rotate(request, reply);
  const data: SessionData = {
    account: {
      id: account.id,
      email: account.email,
      displayName: account.displayName,
      orgId: account.orgId,
      signedInAt: Date.now(),
    },
  };
  session.data = data as Record<string, unknown>;
  session.accountId = account.id;
  await request.server.sessions.save(request);
  await recordAudit(ctx, request, {
    actor: { kind: 'account', id: account.id, label: account.email },
    action: 'signin',
    ownerId: account.id,
  });
  return reply.code(303).redirect('/');
}

const unlockBody = z.object({ _csrf: z.string(), token: z.string().max(1000), next: z.string().max(600).optional() });

/** Registers `/signin`, `/signout` and `/admin/unlock`. */
export const signinRoutes: FastifyPluginAsync<RouteOptions> = async (app: FastifyInstance, { ctx }) => {
  app.post('/signin', { config: { access: 'anyone' } }, async (request, reply) => {
    if (ctx.config.accessMode !== 'team') return reply.code(303).redirect('/');
    const integrationId = ctx.defaultIntegrationId;
    const integration = integrationId ? await ctx.vault.integrations.get(integrationId) : undefined;
    if (!integrationId || !integration) throw new Error('team mode runs with a configured integration');
    // Every sign-in start spends the address's budget, with or without a session (a session without one makes one).
    // A spent budget throws SessionLimitError, which the app's error handler answers with a 429 page.
    if (request.session) request.server.sessions.spend(request);
    await request.server.sessions.ensure(request, reply);
    const authorization = createAuthorizationRequest({ integration, scopes: [...SIGNIN_SCOPES] });
    const held = request.server.sessions.holdPending(request, reply, {
      purpose: 'signin',
      integrationId,
      pending: authorization.pending,
    });
    if (held === 'too-large') {
      return reply.errorPage({
        status: 400,
        title: 'Sign-in could not start',
        explanation: 'The configured redirect URI is too long for this browser to hold the sign-in in a cookie.',
        action: 'Ask the administrator to configure a shorter WEBEX_REDIRECT_URI.',
      });
    }
    if (held === 'full') {
      return reply.header('retry-after', '60').errorPage({
        status: 429,
        title: 'Too many sign-ins in progress',
        explanation: 'This browser started many sign-ins that Webex has not answered yet.',
        action: 'Finish one, or wait 15 minutes, then try again.',
      });
    }
    return reply.code(303).redirect(authorization.url);
  });

  app.post('/signout', { config: { access: 'anyone' } }, async (request, reply) => {
    // Only a signed-in account's sign-out is an event (anyone may post here: no entry for an empty session).
    const account = request.principal.account;
    if (account) await recordAudit(ctx, request, { action: 'signout', ownerId: account.id });
    await request.server.sessions.destroy(request, reply);
    return reply.code(303).redirect(ctx.config.accessMode === 'team' ? '/?signin=signed-out' : '/');
  });

  // Guessing the admin token is bounded like session creation: one bucket per client address.
  app.post('/admin/unlock', { config: { access: 'anyone' } }, async (request, reply) => {
    const body = unlockBody.safeParse(request.body ?? {});
    const next = localPath(body.success ? body.data.next : undefined);
    const adminToken = ctx.config.adminToken;
    if (ctx.config.accessMode !== 'local' || !adminToken) return reply.code(303).redirect(next);
    if (!body.success || !sameSecret(body.data.token, adminToken)) {
      request.server.sessions.spend(request);
      return reply
        .code(401)
        .page(
          'Admin token required',
          adminUnlockView({ csrf: request.csrf, next, message: 'That is not the admin token.' }),
        );
    }
    await request.server.sessions.ensure(request, reply);
    await request.server.sessions.rotate(request, reply);
    (request.session as { data: SessionData }).data.adminUnlocked = true;
    await request.server.sessions.save(request);
    await recordAudit(ctx, request, { actor: { kind: 'local' }, action: 'admin.unlock', ownerId: LOCAL_OPERATOR });
    return reply.code(303).redirect(next);
  });
};
