/** What the token endpoint and the device token endpoint share: client authentication and the token response. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { oauthError, sendJson } from '../envelope.js';
import type { AccessRec, IntegrationRec, RefreshRec } from '../state.js';

/** The outcome of client authentication. */
export type ClientAuth = { ok: true; integration: IntegrationRec } | { ok: false; reply: FastifyReply };

function decodeBasicPart(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/**
 * Authenticates the client by `Authorization: Basic` or by `client_id` + `client_secret` parameters (body or query);
 * unknown client or wrong secret → 401 `invalid_client` (RFC shape).
 */
export function authenticateClient(
  ctx: EmulatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  params: Record<string, string>,
): ClientAuth {
  let id = params.client_id;
  let secret = params.client_secret;
  const header = request.headers.authorization;
  const bad = (description: string): ClientAuth => ({
    ok: false,
    reply: oauthError(request, reply, 401, 'invalid_client', description),
  });
  if (typeof header === 'string' && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return bad('Client authentication failed.');
    const basicId = decodeBasicPart(decoded.slice(0, colon));
    const basicSecret = decodeBasicPart(decoded.slice(colon + 1));
    if ((id !== undefined && id !== basicId) || (secret !== undefined && secret !== basicSecret))
      return bad('Client authentication failed.');
    id = basicId;
    secret = basicSecret;
  }
  if (!id) return bad('Client authentication failed: no client_id.');
  const integration = ctx.state.integrations.get(id);
  if (!integration || secret === undefined || secret !== integration.clientSecret)
    return bad('Client authentication failed.');
  return { ok: true, integration };
}

/**
 * Sends the token response of docs/webex-api.md "Tokens" for `grant` with a fresh access token, or with `reuse` (an
 * access token already issued on the grant, answered with its own remaining lifetime).
 */
export async function sendTokens(
  ctx: EmulatorContext,
  reply: FastifyReply,
  grant: RefreshRec,
  accessTtl: number,
  idToken?: { nonce?: string },
  reuse?: AccessRec,
): Promise<FastifyReply> {
  const access = reuse ?? ctx.tokens.mintAccess(grant, accessTtl);
  const now = ctx.clock.now();
  const body: Record<string, unknown> = {
    access_token: access.token,
    expires_in: reuse ? Math.max(0, Math.round((reuse.expiresAt - now) / 1000)) : accessTtl,
    refresh_token: grant.token,
    refresh_token_expires_in: Math.max(0, Math.ceil((grant.expiresAt - now) / 1000)),
  };
  if (!ctx.options.legacyTokenResponse) {
    body.token_type = 'Bearer';
    body.scope = grant.scope;
  }
  if (idToken && grant.scopes.includes('openid')) body.id_token = await mintIdToken(ctx, grant, idToken.nonce);
  reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
  return sendJson(reply, 200, body);
}

/** Signs an id_token (RS256, 7200 s) with the openid claims, plus email/profile claims when so configured. */
export async function mintIdToken(ctx: EmulatorContext, grant: RefreshRec, nonce?: string): Promise<string> {
  const iat = ctx.clock.nowSeconds();
  const claims: Record<string, unknown> = {
    aud: grant.clientId,
    sub: grant.personUuid,
    auth_time: grant.authTime,
    iss: ctx.options.idTokenIss,
    exp: iat + 7200,
    iat,
  };
  if (nonce !== undefined) claims.nonce = nonce;
  if (ctx.options.idTokenClaims === 'requested') {
    const person = ctx.state.personByUuid(grant.personUuid);
    if (person && grant.scopes.includes('email')) {
      claims.email = person.email;
      claims.email_verified = true;
    }
    if (person && grant.scopes.includes('profile')) {
      claims.name = person.displayName;
      claims.given_name = person.firstName;
      claims.family_name = person.lastName;
      claims.locale = person.locale ?? 'en_US';
    }
  }
  return ctx.keys.sign(claims, !ctx.options.noKid);
}
