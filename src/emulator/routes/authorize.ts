/**
 * `GET /v1/authorize` and the consent form `POST /v1/authorize` (docs/webex-api.md "Authorization"). Unknown client or unregistered
 * redirect URI → an HTML 400 page, never a redirect; every other error goes back to the redirect URI with `state`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OIDC_SCOPES } from '../../scopes/catalog.js';
import type { EmulatorContext } from '../context.js';
import { opaqueToken } from '../ids.js';
import { singleParams } from '../params.js';
import type { PendingAuthorization } from '../state.js';
import { consentPage, errorPage } from '../views/pages.js';

const OIDC = new Set(OIDC_SCOPES);
const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
const SESSION_COOKIE = 'wxemu_session';
const PENDING_TTL_MS = 10 * 60 * 1000;

function page(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}

function redirectWith(reply: FastifyReply, redirectUri: string, fields: Record<string, string | undefined>) {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) url.searchParams.set(k, v);
  return reply.code(302).header('Cache-Control', 'no-store').header('Location', url.href).send();
}

/** The people (not bots) the sign-in page offers to accept as: the first 20, in seed order. */
function seededPeople(ctx: EmulatorContext): { displayName: string; email: string }[] {
  const people: { displayName: string; email: string }[] = [];
  for (const p of ctx.state.people.values()) {
    if (p.type !== 'person') continue;
    people.push({ displayName: p.displayName, email: p.email });
    if (people.length === 20) break;
  }
  return people;
}

function sessionPerson(ctx: EmulatorContext, request: FastifyRequest): string | undefined {
  const cookie = request.headers.cookie;
  if (!cookie) return undefined;
  const m = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([A-Za-z0-9-]{36})`).exec(cookie);
  return m?.[1] ? ctx.state.sessions.get(m[1]) : undefined;
}

function issueCode(ctx: EmulatorContext, p: PendingAuthorization, personUuid: string): string {
  const code = opaqueToken(ctx.state.personByUuid(personUuid)?.orgUuid);
  const now = ctx.clock.now();
  ctx.state.codes.set(code, {
    clientId: p.clientId,
    redirectUri: p.redirectUriGiven ? p.redirectUri : undefined,
    personUuid,
    scopes: p.scopes,
    challenge: p.challenge,
    method: p.method,
    nonce: p.nonce,
    authTime: Math.floor(now / 1000),
    expiresAt: now + ctx.options.codeTtl * 1000,
    used: false,
  });
  return code;
}

/** Registers the authorize endpoint and its consent form. */
export async function authorizeRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  app.get('/v1/authorize', { config: { fault: 'authorize' } }, async (request, reply) => {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const field = (k: string): string | undefined | null => {
      const v = q[k];
      if (v === undefined) return undefined;
      return typeof v === 'string' && v.length <= 4096 ? v : null; // null: repeated or oversized
    };
    const clientId = field('client_id');
    if (!clientId)
      return page(reply, 400, errorPage('Invalid request', 'The client_id parameter is missing or invalid.'));
    const integration = ctx.state.integrations.get(clientId);
    if (!integration)
      return page(reply, 400, errorPage('Invalid client', `No integration has the client id ${clientId}.`));
    const given = field('redirect_uri');
    if (given === null) return page(reply, 400, errorPage('Invalid request', 'The redirect_uri parameter is invalid.'));
    const redirectUri = given ?? integration.soleRedirectUri;
    if (!redirectUri)
      return page(
        reply,
        400,
        errorPage('Invalid request', 'The redirect_uri parameter is required for this integration.'),
      );
    if (!integration.redirectUris.has(redirectUri))
      return page(
        reply,
        400,
        errorPage('Invalid redirect URI', `The redirect_uri ${redirectUri} is not registered for this integration.`),
      );

    // From here on errors go back to the (verified) redirect URI.
    const checked = singleParams(q);
    const rawState = typeof q.state === 'string' && q.state.length <= 4096 ? q.state : undefined;
    const fail = (error: string, description?: string) =>
      redirectWith(reply, redirectUri, { error, error_description: description, state: rawState });
    if (request.forcedError) return fail(request.forcedError);
    if (!checked.ok) return fail('invalid_request', checked.reason);
    const p = checked.params;
    if (!p.response_type) return fail('invalid_request', 'The response_type parameter is required.');
    if (p.response_type !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
    const scopes = (p.scope ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0) return fail('invalid_scope', 'The requested scope is invalid.');
    if (scopes.some((s) => !OIDC.has(s) && !integration.scopes.has(s)))
      return fail('invalid_scope', 'The requested scope is invalid.');
    if (scopes.includes('openid') && !p.nonce)
      return fail('invalid_request', 'The nonce parameter is required with openid.');
    let method: 'S256' | 'plain' | undefined;
    if (p.code_challenge !== undefined) {
      if (!PKCE_CHALLENGE.test(p.code_challenge)) return fail('invalid_request', 'The code_challenge is invalid.');
      const m = p.code_challenge_method ?? 'plain';
      if (m !== 'S256' && m !== 'plain') return fail('invalid_request', 'The code_challenge_method is not supported.');
      method = m;
    } else if (p.code_challenge_method !== undefined) {
      return fail('invalid_request', 'code_challenge_method without code_challenge.');
    }
    if (p.max_age !== undefined && !/^\d{1,10}$/.test(p.max_age))
      return fail('invalid_request', 'max_age must be a number.');
    const pending: PendingAuthorization = {
      clientId,
      redirectUri,
      redirectUriGiven: given !== undefined,
      scopes: [...new Set(scopes)],
      state: p.state,
      challenge: p.code_challenge,
      method,
      nonce: p.nonce,
      loginHint: p.login_hint,
      expiresAt: ctx.clock.now() + PENDING_TTL_MS,
    };
    const auto = ctx.options.autoConsent ? ctx.state.personByEmail(ctx.options.autoConsent) : undefined;
    const prompt = (p.prompt ?? '').split(' ');
    const session = sessionPerson(ctx, request);
    if (auto) return redirectWith(reply, redirectUri, { code: issueCode(ctx, pending, auto.uuid), state: p.state });
    if (prompt.includes('none')) {
      if (!session) return fail('login_required');
      return redirectWith(reply, redirectUri, { code: issueCode(ctx, pending, session), state: p.state });
    }
    const requestId = randomUUID();
    ctx.state.pending.set(requestId, pending);
    return page(
      reply,
      200,
      consentPage({
        requestId,
        appName: integration.name,
        scopes: pending.scopes,
        email: p.login_hint,
        people: seededPeople(ctx),
      }),
    );
  });

  app.post('/v1/authorize', { config: { fault: 'authorize' } }, async (request, reply) => {
    const checked = singleParams(request.body ?? {});
    if (!checked.ok) return page(reply, 400, errorPage('Invalid request', checked.reason));
    const { request: requestId = '', email = '', decision = '' } = checked.params;
    const pending = ctx.state.pending.get(requestId);
    if (!pending || pending.expiresAt <= ctx.clock.now()) {
      ctx.state.pending.delete(requestId);
      return page(
        reply,
        400,
        errorPage('Sign-in expired', 'This sign-in request is unknown or expired. Start again from the application.'),
      );
    }
    const back = (fields: Record<string, string | undefined>) => {
      ctx.state.pending.delete(requestId);
      return redirectWith(reply, pending.redirectUri, { ...fields, state: pending.state });
    };
    if (request.forcedError) return back({ error: request.forcedError });
    if (decision === 'decline') return back({ error: 'access_denied' });
    const integration = ctx.state.integrations.get(pending.clientId);
    const view = {
      requestId,
      appName: integration?.name ?? 'An integration',
      scopes: pending.scopes,
      email,
      people: seededPeople(ctx),
    };
    if (decision !== 'accept') return page(reply, 400, consentPage({ ...view, error: 'Choose Accept or Decline.' }));
    const person = ctx.state.personByEmail(email.trim());
    if (person?.type !== 'person')
      return page(reply, 400, consentPage({ ...view, error: `No Webex account for ${email || 'an empty email'}.` }));
    const sid = randomUUID();
    ctx.state.sessions.set(sid, person.uuid);
    reply.header('Set-Cookie', `${SESSION_COOKIE}=${sid}; Path=/v1; HttpOnly; SameSite=Lax`);
    return back({ code: issueCode(ctx, pending, person.uuid) });
  });
}
