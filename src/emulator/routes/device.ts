/**
 * The device grant (RFC 8628 as Webex runs it): `POST /v1/device/authorize`, `POST /v1/device/token` (Basic auth; 428
 * `authorization_pending` until approved, `slow_down`, `expired_token`, `access_denied`), and the verification page
 * `/v1/device/verify` (`user_code`, `email`, two `decision` buttons). With auto-consent a code is approved on first poll.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OIDC_SCOPES } from '../../scopes/catalog.js';
import type { EmulatorContext } from '../context.js';
import { oauthError, restError, sendJson, tokenLimitReached } from '../envelope.js';
import { opaqueToken, userCode } from '../ids.js';
import { singleParams } from '../params.js';
import type { DeviceRec } from '../state.js';
import { devicePage } from '../views/pages.js';
import { authenticateClient, sendTokens } from './grant.js';
import { readTokenRequest } from './token.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const DEVICE_TTL = 300;
const INTERVAL = 2;

function page(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}

/** Registers the device grant endpoints and the verification page. */
export async function deviceRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const live = (d: DeviceRec | undefined) => (d && ctx.clock.now() < d.expiresAt ? d : undefined);

  app.post('/v1/device/authorize', { config: { fault: 'token' } }, async (request, reply) => {
    const p = readTokenRequest(request, reply);
    if (!p) return reply;
    const integration = p.client_id ? ctx.state.integrations.get(p.client_id) : undefined;
    if (!integration)
      return restError(
        request,
        reply,
        400,
        'The request could not be understood by the server due to malformed syntax.',
        'Client Id is invalid',
      );
    const scopes = (p.scope ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0 || scopes.some((s) => OIDC_SCOPES.includes(s) || !integration.scopes.has(s)))
      return oauthError(request, reply, 400, 'invalid_scope', 'The requested scope is invalid.');
    const device: DeviceRec = {
      deviceCode: opaqueToken(),
      userCode: userCode(),
      clientId: integration.clientId,
      scopes: [...new Set(scopes)],
      expiresAt: ctx.clock.now() + DEVICE_TTL * 1000,
      interval: INTERVAL,
      status: 'pending',
    };
    ctx.state.devices.set(device.deviceCode, device);
    ctx.state.devicesByUserCode.set(device.userCode, device);
    const verify = `${request.protocol}://${request.host}/v1/device/verify`;
    return sendJson(reply, 200, {
      device_code: device.deviceCode,
      expires_in: DEVICE_TTL,
      user_code: device.userCode,
      verification_uri: verify,
      verification_uri_complete: `${verify}?user_code=${device.userCode}`,
      interval: INTERVAL,
    });
  });

  app.post('/v1/device/token', { config: { fault: 'token' } }, async (request, reply) => {
    const p = readTokenRequest(request, reply);
    if (!p) return reply;
    if (!p.grant_type)
      return oauthError(request, reply, 400, 'invalid_request', 'The grant_type parameter is required.');
    if (p.grant_type !== DEVICE_GRANT)
      return oauthError(request, reply, 400, 'unsupported_grant_type', 'The grant type is not supported.');
    const client = authenticateClient(ctx, request, reply, p);
    if (!client.ok) return client.reply;
    if (!p.device_code)
      return oauthError(request, reply, 400, 'invalid_request', 'The device_code parameter is required.');
    const device = ctx.state.devices.get(p.device_code);
    if (!device || device.clientId !== client.integration.clientId || device.status === 'done')
      return oauthError(request, reply, 400, 'invalid_grant', 'The device code is invalid.');
    const now = ctx.clock.now();
    if (now >= device.expiresAt)
      return oauthError(request, reply, 400, 'expired_token', 'The device code has expired.');
    if (device.status === 'pending' && ctx.options.autoConsent) {
      const person = ctx.state.personByEmail(ctx.options.autoConsent);
      if (person) {
        device.status = 'approved';
        device.personUuid = person.uuid;
      }
    }
    if (device.status === 'denied') return oauthError(request, reply, 400, 'access_denied', 'The person declined.');
    if (device.status === 'pending') {
      const tooFast = device.lastPoll !== undefined && now - device.lastPoll < device.interval * 1000;
      device.lastPoll = now;
      if (tooFast) return oauthError(request, reply, 400, 'slow_down', 'Polling too fast; wait the interval.');
      return oauthError(request, reply, 428, 'authorization_pending', 'The person has not yet approved the device.');
    }
    if (!device.personUuid || !ctx.tokens.underCap(device.personUuid)) return tokenLimitReached(request, reply);
    device.status = 'done';
    const grant = ctx.tokens.mintRefresh(device.clientId, device.personUuid, device.scopes, Math.floor(now / 1000));
    ctx.stats.grants.device_code++;
    return sendTokens(ctx, reply, grant, ctx.options.deviceAccessTtl);
  });

  app.get('/v1/device/verify', async (request, reply) => {
    const q = singleParams(request.query);
    const code = q.ok ? q.params.user_code : undefined;
    return page(reply, 200, devicePage({ userCode: code?.slice(0, 20) }));
  });

  app.post('/v1/device/verify', async (request: FastifyRequest, reply) => {
    const checked = singleParams(request.body ?? {});
    if (!checked.ok) return page(reply, 400, devicePage({ error: checked.reason }));
    const { user_code = '', email = '', decision = '' } = checked.params;
    const normalized = user_code.toUpperCase().replace(/[\s-]/g, '');
    const device = live(ctx.state.devicesByUserCode.get(normalized));
    const view = { userCode: user_code, email };
    if (device?.status !== 'pending')
      return page(reply, 400, devicePage({ ...view, error: 'That code is unknown or expired.' }));
    if (decision === 'decline') {
      device.status = 'denied';
      return page(reply, 200, devicePage({ done: 'You declined. The device will not be signed in.' }));
    }
    if (decision !== 'accept') return page(reply, 400, devicePage({ ...view, error: 'Choose Accept or Decline.' }));
    const person = ctx.state.personByEmail(email.trim());
    if (person?.type !== 'person')
      return page(reply, 400, devicePage({ ...view, error: `No Webex account for ${email || 'an empty email'}.` }));
    device.status = 'approved';
    device.personUuid = person.uuid;
    return page(reply, 200, devicePage({ done: 'Done. You can return to your device.' }));
  });
}
