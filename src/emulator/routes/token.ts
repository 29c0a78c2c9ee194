/**
 * `POST /v1/access_token` (docs/webex-api.md "Tokens"): authorization_code and refresh_token grants, form body or query string,
 * client secret in the body or Basic, the live-token cap, rotation and renewal knobs, both error shapes.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { MSG_BAD_REFRESH, oauthError, restError, tokenLimitReached } from '../envelope.js';
import { singleParams } from '../params.js';
import type { IntegrationRec } from '../state.js';
import { authenticateClient, sendTokens } from './grant.js';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const FORM = 'application/x-www-form-urlencoded';

/**
 * Reads a token-style request: the form content type (or none, with everything in the query string), parameters
 * each given once. Sends the error itself and returns undefined when the request is unusable.
 */
export function readTokenRequest(request: FastifyRequest, reply: FastifyReply): Record<string, string> | undefined {
  const type = request.headers['content-type'];
  if (type !== undefined && !type.toLowerCase().startsWith(FORM)) {
    restError(request, reply, 415, `Content type '${type.slice(0, 100)}' not supported`);
    return undefined;
  }
  const merged = singleParams(request.query, request.body);
  if (!merged.ok) {
    oauthError(request, reply, 400, 'invalid_request', merged.reason);
    return undefined;
  }
  return merged.params;
}

const INVALID_CODE = 'The authorization code is invalid, expired, already used, or was issued to another client.';

/** Registers the token endpoint. */
export async function tokenRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  async function codeGrant(
    request: FastifyRequest,
    reply: FastifyReply,
    it: IntegrationRec,
    p: Record<string, string>,
  ) {
    if (!p.code) return oauthError(request, reply, 400, 'invalid_request', 'The code parameter is required.');
    const code = ctx.state.codes.get(p.code);
    const grantError = (d = INVALID_CODE) => oauthError(request, reply, 400, 'invalid_grant', d);
    if (!code || code.used || code.clientId !== it.clientId || ctx.clock.now() >= code.expiresAt) return grantError();
    code.used = true; // single use, whatever happens next
    const expected = code.redirectUri;
    if (
      expected !== undefined
        ? p.redirect_uri !== expected
        : p.redirect_uri !== undefined && !it.redirectUris.has(p.redirect_uri)
    )
      return grantError('The redirect_uri does not match the authorization request.');
    if (code.challenge !== undefined) {
      const v = p.code_verifier;
      if (!v || !VERIFIER.test(v)) return grantError('The code_verifier is missing or invalid.');
      const computed = code.method === 'S256' ? createHash('sha256').update(v).digest('base64url') : v;
      if (computed !== code.challenge) return grantError('The code_verifier does not match the code_challenge.');
    } else if (p.code_verifier !== undefined) {
      return grantError('A code_verifier was sent but the authorization request had no code_challenge.');
    }
    if (!ctx.tokens.underCap(code.personUuid)) return tokenLimitReached(request, reply);
    const grant = ctx.tokens.mintRefresh(it.clientId, code.personUuid, code.scopes, code.authTime);
    ctx.stats.grants.authorization_code++;
    return sendTokens(ctx, reply, grant, ctx.options.accessTtl, { nonce: code.nonce });
  }

  async function refreshGrant(
    request: FastifyRequest,
    reply: FastifyReply,
    it: IntegrationRec,
    p: Record<string, string>,
  ) {
    if (!p.refresh_token)
      return oauthError(request, reply, 400, 'invalid_request', 'The refresh_token parameter is required.');
    let grant = ctx.tokens.liveRefresh(p.refresh_token);
    if (!grant || grant.clientId !== it.clientId)
      return oauthError(request, reply, 400, ctx.options.refreshError, MSG_BAD_REFRESH);
    if (p.scope !== undefined) {
      const asked = p.scope.split(' ').filter(Boolean);
      if (asked.some((s) => !grant?.scopes.includes(s)))
        return oauthError(request, reply, 400, 'invalid_scope', 'The requested scope is invalid.');
    }
    const now = ctx.clock.now();
    // --refresh-unchanged-within: a second refresh inside the window answers the same access token and expiry.
    const last = grant.lastRefresh;
    const windowMs = ctx.options.refreshUnchangedWithin * 1000;
    if (last && windowMs > 0 && now - last.at < windowMs && ctx.tokens.checkAccess(last.access.token).ok) {
      ctx.stats.grants.refresh_token++;
      return sendTokens(ctx, reply, grant, ctx.options.accessTtl, undefined, last.access);
    }
    if (!ctx.tokens.underCap(grant.personUuid)) return tokenLimitReached(request, reply);
    if (ctx.options.rotateRefreshTokens) grant = ctx.tokens.rotate(grant);
    if (ctx.options.refreshRenew) grant.expiresAt = now + ctx.options.refreshTtl * 1000;
    ctx.stats.grants.refresh_token++;
    const access = ctx.tokens.mintAccess(grant, ctx.options.accessTtl);
    if (windowMs > 0) grant.lastRefresh = { access, at: now };
    return sendTokens(ctx, reply, grant, ctx.options.accessTtl, undefined, access);
  }

  app.post('/v1/access_token', { config: { fault: 'token' } }, async (request, reply) => {
    const p = readTokenRequest(request, reply);
    if (!p) return reply;
    if (!p.grant_type)
      return oauthError(request, reply, 400, 'invalid_request', 'The grant_type parameter is required.');
    if (p.grant_type !== 'authorization_code' && p.grant_type !== 'refresh_token')
      return oauthError(request, reply, 400, 'unsupported_grant_type', 'The grant type is not supported.');
    const client = authenticateClient(ctx, request, reply, p);
    if (!client.ok) return client.reply;
    return p.grant_type === 'authorization_code'
      ? codeGrant(request, reply, client.integration, p)
      : refreshGrant(request, reply, client.integration, p);
  });
}
