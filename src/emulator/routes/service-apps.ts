/**
 * Service Apps (docs/webex-api.md "Other token types"): `POST /v1/applications/{applicationId}/token` hands out a token
 * pair for the app's machine account in an org that authorized it, to a caller whose token holds
 * `spark:applications_token`; the pair is refreshed at `/v1/access_token` under the app's own client. The control API
 * `POST /_emulator/service-apps/{id}/authorize` and `/deauthorize` stand in for a Full Admin in Control Hub: they fire
 * the `serviceApp` webhooks, and deauthorizing revokes every token of the app in that org.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { EmulatorContext } from '../context.js';
import { restError, sendJson, tokenLimitReached } from '../envelope.js';
import { parseOrgId } from '../ids.js';
import type { ServiceAppRec } from '../state.js';
import { webhooks } from '../webhooks/hub.js';
import { sendTokens } from './grant.js';
import { authenticate, readJsonBody, requiredScopes } from './rest.js';

const MSG_NO_APP = 'Could not find an application with provided ID.';
const MSG_BAD_CLIENT = 'The clientId or clientSecret does not match the application.';
const MSG_NOT_AUTHORIZED = 'The application is not authorized in the target organization.';

const tokenBody = z.object({
  clientId: z.string().min(1).max(256),
  clientSecret: z.string().min(1).max(256),
  targetOrgId: z.string().min(1).max(200),
});

const orgBody = z.object({ orgId: z.string().min(1).max(200) }).strict();

/** Registers the Service App token endpoint and its control API. */
export async function serviceAppRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const scopes = requiredScopes('POST', '/applications/{applicationId}/token');

  app.post('/v1/applications/:applicationId/token', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, scopes);
    if (!caller) return reply;
    const body = readJsonBody(request, reply, tokenBody);
    if (!body) return reply;
    const sa = ctx.state.serviceApps.get((request.params as { applicationId: string }).applicationId);
    if (!sa) return restError(request, reply, 404, MSG_NO_APP);
    if (body.clientId !== sa.clientId || body.clientSecret !== sa.clientSecret)
      return restError(request, reply, 401, MSG_BAD_CLIENT);
    const org = parseOrgId(body.targetOrgId);
    if (!org) return restError(request, reply, 400, 'targetOrgId: must be an organization id.');
    if (!sa.authorizedOrgs.has(org.id)) return restError(request, reply, 403, MSG_NOT_AUTHORIZED);
    const machine = ctx.state.machineAccount(sa, org.id);
    if (!ctx.tokens.underCap(machine.uuid)) return tokenLimitReached(request, reply);
    const grant = ctx.tokens.mintRefresh(sa.clientId, machine.uuid, sa.scopes, ctx.clock.nowSeconds());
    return sendTokens(ctx, reply, grant, ctx.options.accessTtl);
  });

  function target(request: FastifyRequest, reply: FastifyReply): { sa: ServiceAppRec; orgId: string } | undefined {
    const sa = ctx.state.serviceApps.get((request.params as { id: string }).id);
    if (!sa) {
      restError(request, reply, 404, 'No such service app.');
      return undefined;
    }
    const parsed = orgBody.safeParse(request.body ?? {});
    const org = parsed.success ? parseOrgId(parsed.data.orgId) : undefined;
    if (!org) {
      restError(request, reply, 400, 'orgId: must be an organization id (REST form or bare UUID).');
      return undefined;
    }
    return { sa, orgId: org.id };
  }

  app.post('/_emulator/service-apps/:id/authorize', async (request, reply) => {
    const t = target(request, reply);
    if (!t) return reply;
    const changed = !t.sa.authorizedOrgs.has(t.orgId);
    t.sa.authorizedOrgs.add(t.orgId);
    if (changed) webhooks(ctx).serviceAppEvent('authorized', t.sa, t.orgId);
    return sendJson(reply, 200, { id: t.sa.id, orgId: t.orgId, authorized: true, changed });
  });

  app.post('/_emulator/service-apps/:id/deauthorize', async (request, reply) => {
    const t = target(request, reply);
    if (!t) return reply;
    const changed = t.sa.authorizedOrgs.delete(t.orgId);
    // Every grant of the app's machine account (and guest) in that org dies, after --revocation-lag-ms.
    let revoked = 0;
    for (const p of ctx.state.people.values())
      if (p.serviceAppId === t.sa.id && p.orgId === t.orgId) revoked += ctx.tokens.revokePerson(p.uuid);
    for (const a of ctx.state.accessTokens.values()) {
      const p = ctx.state.personByUuid(a.personUuid);
      if (p?.serviceAppId === t.sa.id && p.orgId === t.orgId) ctx.tokens.revokeAccess(a);
    }
    if (changed) webhooks(ctx).serviceAppEvent('deauthorized', t.sa, t.orgId);
    return sendJson(reply, 200, { id: t.sa.id, orgId: t.orgId, authorized: false, changed, revoked });
  });
}
