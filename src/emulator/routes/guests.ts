/**
 * Service App guests (docs/webex-api.md "Other token types"): `POST /v1/guests/token` `{subject, displayName}` mints a
 * token for the app's guest with that subject (created on first use, renamed by a new `displayName`; earlier tokens
 * stay valid) and `GET /v1/guests/count` counts the app's guests. Only a Service App's machine-account token may call
 * them (`guest-issuer:write`; the count also with `guest-issuer:read`). A guest is a person of type `appuser`.
 */
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { EmulatorContext } from '../context.js';
import { MSG_403, restError, sendJson } from '../envelope.js';
import { authenticate, readJsonBody, requiredScopes } from './rest.js';

/** A guest token's lifetime in seconds (Webex's example shows 64799, 18 hours). */
export const GUEST_TTL = 64799;

/** What a guest token may do: the messaging scopes of a person, nothing admin. */
const GUEST_SCOPES: ReadonlySet<string> = new Set([
  'spark:people_read',
  'spark:rooms_read',
  'spark:rooms_write',
  'spark:memberships_read',
  'spark:memberships_write',
  'spark:messages_read',
  'spark:messages_write',
  'spark:kms',
]);

const guestBody = z.object({
  subject: z.string().trim().min(1).max(256),
  displayName: z.string().trim().min(1).max(256),
});

/** Registers the guest endpoints. */
export async function guestRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const tokenScopes = requiredScopes('POST', '/guests/token');
  const countScopes = requiredScopes('GET', '/guests/count');

  /** The Service App of a machine-account caller, else undefined. */
  const appOf = (serviceAppId: string | undefined, guestSubject: string | undefined) =>
    serviceAppId !== undefined && guestSubject === undefined ? ctx.state.serviceApps.get(serviceAppId) : undefined;

  app.post('/v1/guests/token', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, tokenScopes);
    if (!caller) return reply;
    const sa = appOf(caller.person.serviceAppId, caller.person.guestSubject);
    if (!sa) return restError(request, reply, 403, MSG_403);
    const body = readJsonBody(request, reply, guestBody);
    if (!body) return reply;
    const guest = ctx.state.guest(sa, caller.person.orgId, body.subject, body.displayName);
    const token = ctx.tokens.mintBare(sa.clientId, guest.uuid, GUEST_SCOPES, GUEST_TTL);
    return sendJson(reply, 200, {
      id: guest.id,
      subject: body.subject,
      displayName: guest.displayName,
      email: guest.email,
      accessToken: token.token,
      expiresIn: GUEST_TTL,
    });
  });

  app.get('/v1/guests/count', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, countScopes);
    if (!caller) return reply;
    const sa = appOf(caller.person.serviceAppId, caller.person.guestSubject);
    if (!sa) return restError(request, reply, 403, MSG_403);
    let count = 0;
    for (const p of ctx.state.peopleByUuid.values())
      if (p.serviceAppId === sa.id && p.guestSubject !== undefined && p.orgId === caller.person.orgId) count++;
    return sendJson(reply, 200, { count });
  });
}
