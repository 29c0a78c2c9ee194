/**
 * OpenID Connect (docs/webex-api.md "OpenID Connect"): discovery with absolute URLs on the emulator's own origin, the JWKS at
 * `/v1/verification`, `/v1/userinfo` (claims per granted OIDC scope, `email_verified` as the string "true"), WebFinger.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { MSG_403, restError, sendJson } from '../envelope.js';
import { authenticate } from './rest.js';

function origin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** Registers discovery, JWKS, userinfo and WebFinger. */
export async function oidcRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  app.get('/v1/.well-known/openid-configuration', async (request, reply) => {
    const base = `${origin(request)}/v1`;
    return sendJson(reply, 200, {
      issuer: ctx.options.issuer,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/access_token`,
      userinfo_endpoint: `${base}/userinfo`,
      jwks_uri: `${base}/verification`,
      response_types_supported: ['code', 'id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile', 'phone', 'address'],
      claims_supported:
        'aud sub auth_time iss exp iat nonce email email_verified name given_name family_name locale phone address'.split(
          ' ',
        ),
      grant_types_supported: ['authorization_code', 'implicit', 'refresh_token'],
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      token_endpoint_auth_methods_supported: ctx.options.discoveryAuthMethods,
      code_challenge_methods_supported: ['plain', 'S256'],
    });
  });

  app.get('/v1/verification', async (_request, reply) => sendJson(reply, 200, await ctx.keys.jwks()));

  const userinfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const caller = authenticate(ctx, request, reply, []);
    if (!caller) return reply;
    const scopes = caller.token.scopes;
    if (!scopes.has('openid')) return restError(request, reply, 403, MSG_403);
    const p = caller.person;
    const body: Record<string, unknown> = { sub: p.uuid };
    if (scopes.has('email')) {
      body.email = p.email;
      body.email_verified = 'true';
    }
    if (scopes.has('profile')) {
      body.name = p.displayName;
      if (p.firstName !== undefined) body.given_name = p.firstName;
      if (p.lastName !== undefined) body.family_name = p.lastName;
      body.locale = p.locale ?? 'en_US';
    }
    if (scopes.has('phone') && p.phone) body.phone = p.phone;
    return sendJson(reply, 200, body);
  };
  app.get('/v1/userinfo', { config: { fault: 'rest' } }, userinfo);
  app.post('/v1/userinfo', { config: { fault: 'rest' } }, userinfo);

  app.get('/v1/.well-known/webfinger', async (request, reply) => {
    const resource = (request.query as Record<string, unknown>).resource;
    if (typeof resource !== 'string' || resource.length > 400 || !/^acct:[^\s@]+@[^\s@]+$/.test(resource))
      return restError(request, reply, 400, 'resource must be acct:<email>.');
    return reply
      .code(200)
      .type('application/jrd+json')
      .send(
        JSON.stringify({
          subject: resource,
          links: [{ rel: 'http://openid.net/specs/connect/1.0/issuer', href: ctx.options.issuer }],
        }),
      );
  });
}
