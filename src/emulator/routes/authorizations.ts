/**
 * The admin Authorizations API (docs/webex-api.md "Revocation and token management"): list a person's grants and
 * access tokens, delete one, delete every grant of a client in an org, and the caller's own token expiry. Listing
 * needs `identity:tokens_read`, deleting `identity:tokens_write`, and the caller must be a full, user or device admin of
 * the person's org (403 otherwise). A deletion takes effect after `--revocation-lag-ms` (Webex subsystems cache a
 * token's validity briefly) but leaves the listing at once.
 */
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { MSG_403, restError, sendJson } from '../envelope.js';
import { parseOrgId, restId, stableUuid } from '../ids.js';
import type { AccessRec, PersonRec, RefreshRec } from '../state.js';
import { sparkId } from '../webhooks/hub.js';
import { authenticate, requiredScopes, singleQuery } from './rest.js';

const MSG_NO_AUTHORIZATION = 'Could not find an authorization with provided ID.';

/** Whether `caller` administers people of `orgId` (full, user or device admin of that org). */
function administers(caller: PersonRec, orgId: string): boolean {
  return caller.orgId === orgId && caller.roles.length > 0;
}

/** An access token's authorization id (derived from the token, which never changes). */
function accessId(a: AccessRec): string {
  return restId('AUTHORIZATION', stableUuid(`access:${a.token}`));
}

/** Registers `/v1/authorizations`. */
export async function authorizationRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const readScopes = requiredScopes('GET', '/authorizations');
  const deleteOneScopes = requiredScopes('DELETE', '/authorizations/{authorizationId}');
  const deleteScopes = requiredScopes('DELETE', '/authorizations');

  /** A person's live (not deleted, unexpired) grants and access tokens. */
  function authorizationsOf(person: PersonRec): { grants: RefreshRec[]; access: AccessRec[] } {
    const now = ctx.clock.now();
    const grants = [...new Set(ctx.state.refreshTokens.values())].filter(
      (g) => g.personUuid === person.uuid && g.revokedAt === undefined && now < g.expiresAt,
    );
    const access: AccessRec[] = [];
    for (const t of ctx.state.liveByPerson.get(person.uuid) ?? []) {
      const a = ctx.state.accessTokens.get(t);
      if (a && a.revokedAt === undefined && a.refresh?.revokedAt === undefined && now < a.expiresAt) access.push(a);
    }
    return { grants, access };
  }

  const item = (person: PersonRec, clientId: string | undefined, created: number, type: 'refresh' | 'access') => {
    const client = clientId === undefined ? undefined : ctx.state.integrations.get(clientId);
    return {
      applicationId: clientId === undefined ? undefined : sparkId('APPLICATION', clientId),
      applicationName: client?.name,
      personId: person.id,
      clientId,
      created: new Date(created).toISOString(),
      type,
    };
  };

  app.get('/v1/authorizations', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, readScopes);
    if (!caller) return reply;
    const q = singleQuery(request, reply);
    if (!q) return reply;
    if ((q.personId === undefined) === (q.personEmail === undefined))
      return restError(request, reply, 400, 'Exactly one of personId or personEmail is required.');
    const person =
      q.personId !== undefined ? ctx.state.people.get(q.personId) : ctx.state.personByEmail(q.personEmail ?? '');
    if (!person) return restError(request, reply, 404, 'Could not find a person with provided ID or email.');
    if (!administers(caller.person, person.orgId)) return restError(request, reply, 403, MSG_403);
    const { grants, access } = authorizationsOf(person);
    const items = [
      ...grants.map((g) => ({ id: g.id, ...item(person, g.clientId, g.created, 'refresh') })),
      ...access.map((a) => ({ id: accessId(a), ...item(person, a.clientId, a.created, 'access') })),
    ].sort((a, b) => a.created.localeCompare(b.created));
    return sendJson(reply, 200, { items });
  });

  // Registered before `/:authorizationId` wins the path by being static.
  app.get('/v1/authorizations/tokenExpiry', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, []);
    if (!caller) return reply;
    const exp = caller.token.expiresAt;
    // A bot token "never" expires: Webex speaks of 100 years.
    const shown = Number.isFinite(exp) ? exp : ctx.clock.now() + 100 * 365 * 86400 * 1000;
    return sendJson(reply, 200, { exp: shown });
  });

  app.delete('/v1/authorizations/:authorizationId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, deleteOneScopes);
    if (!caller) return reply;
    const id = (request.params as { authorizationId: string }).authorizationId;
    for (const g of new Set(ctx.state.refreshTokens.values())) {
      if (g.id !== id || g.revokedAt !== undefined) continue;
      const person = ctx.state.personByUuid(g.personUuid);
      if (!person || !administers(caller.person, person.orgId)) return restError(request, reply, 403, MSG_403);
      ctx.tokens.revokeGrant(g);
      return reply.code(204).send();
    }
    for (const person of ctx.state.people.values()) {
      for (const a of authorizationsOf(person).access) {
        if (accessId(a) !== id) continue;
        if (!administers(caller.person, person.orgId)) return restError(request, reply, 403, MSG_403);
        ctx.tokens.revokeAccess(a);
        return reply.code(204).send();
      }
    }
    return restError(request, reply, 404, MSG_NO_AUTHORIZATION);
  });

  app.delete('/v1/authorizations', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, deleteScopes);
    if (!caller) return reply;
    const q = singleQuery(request, reply);
    if (!q) return reply;
    if (!q.clientId) return restError(request, reply, 400, "Required String parameter 'clientId' is not present");
    const org = q.orgId === undefined ? { id: caller.person.orgId } : parseOrgId(q.orgId);
    if (!org) return restError(request, reply, 400, 'orgId: must be an organization id.');
    if (!administers(caller.person, org.id)) return restError(request, reply, 403, MSG_403);
    const inOrg = (uuid: string) => ctx.state.personByUuid(uuid)?.orgId === org.id;
    for (const g of new Set(ctx.state.refreshTokens.values()))
      if (g.clientId === q.clientId && g.revokedAt === undefined && inOrg(g.personUuid)) ctx.tokens.revokeGrant(g);
    for (const a of ctx.state.accessTokens.values())
      if (a.clientId === q.clientId && !a.refresh && inOrg(a.personUuid)) ctx.tokens.revokeAccess(a);
    return reply.code(204).send();
  });
}
