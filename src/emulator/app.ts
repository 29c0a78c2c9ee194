/**
 * The emulator's Fastify app: hooks every response shares (TrackingID, CORS, no-cache, stats, faults), the form
 * parser, Webex-shaped errors for anything the framework rejects, and the route plugins. CORS is for the Webex
 * endpoints only: the control API `/_emulator` sends none and refuses other origins and non-JSON bodies
 * (control-guard.ts).
 */
import { setTimeout as delay } from 'node:timers/promises';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Clock } from './clock.js';
import type { EmulatorContext } from './context.js';
import { isControlRequest, refuseControlRequest } from './control-guard.js';
import { Faults, Stats } from './control-state.js';
import { DEMO_SEED } from './demo-seed.js';
import { oauthError, restError, TOKEN_LIMIT_DESCRIPTION, tooManyRequests } from './envelope.js';
import { trackingId } from './ids.js';
import { createKeySet } from './keys.js';
import { type EmulatorOptions, resolveOptions } from './options.js';
import { parseForm } from './params.js';
import { authorizationRoutes } from './routes/authorizations.js';
import { authorizeRoutes } from './routes/authorize.js';
import { contentRoutes } from './routes/contents.js';
import { controlRoutes } from './routes/control.js';
import { deviceRoutes } from './routes/device.js';
import { guestRoutes } from './routes/guests.js';
import { membershipRoutes } from './routes/memberships.js';
import { messageRoutes } from './routes/messages.js';
import { oidcRoutes } from './routes/oidc.js';
import { peopleRoutes } from './routes/people.js';
import { roomRoutes } from './routes/rooms.js';
import { serviceAppRoutes } from './routes/service-apps.js';
import { tokenRoutes } from './routes/token.js';
import { webhookRoutes } from './routes/webhooks.js';
import { validateSeed } from './seed.js';
import { EmulatorState } from './state.js';
import { Tokens } from './tokens.js';
import { errorPage } from './views/pages.js';

const EXPOSED = 'TrackingID, Retry-After, Link';

function corsHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  if (origin === undefined || isControlRequest(request)) return;
  reply.header('Access-Control-Allow-Origin', origin);
  reply.header('Vary', 'Origin');
  reply.header('Access-Control-Expose-Headers', EXPOSED);
}

/**
 * Builds the emulator app without listening. The RSA signing keys are generated on first use (see keys.ts).
 * Throws `SeedError` for a bad seed and an `Error` when `autoConsent` names nobody in the seed.
 */
export async function buildEmulator(options: EmulatorOptions = {}): Promise<FastifyInstance> {
  const seed = validateSeed(options.seed ?? DEMO_SEED);
  const resolved = resolveOptions(options);
  if (resolved.autoConsent) {
    const email = resolved.autoConsent.toLowerCase();
    if (!seed.users.some((u) => u.email.toLowerCase() === email))
      throw new Error(`auto-consent: no person "${resolved.autoConsent}" in the seed`);
  }
  const clock = new Clock(resolved.clockOffset);
  const state = new EmulatorState(seed, clock);
  const ctx: EmulatorContext = {
    options: resolved,
    clock,
    state,
    tokens: new Tokens(state, clock, resolved),
    keys: createKeySet(resolved.jwksKeys),
    stats: new Stats(),
    faults: new Faults(),
  };

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    genReqId: trackingId,
    bodyLimit: 256 * 1024,
    routerOptions: { maxParamLength: 16_384 },
    forceCloseConnections: true,
    // Every input is validated with zod at the route, and no route has a JSON schema: leaving ajv and
    // fast-json-stringify unloaded takes ~70 ms off start-up.
    schemaController: {
      compilersFactory: {
        buildValidator: () => () => {
          throw new Error('The emulator validates with zod; JSON schemas are not used.');
        },
        buildSerializer: () => () => (data: unknown) => JSON.stringify(data),
      },
    },
    // A malformed URL (bad percent-encoding) never reaches the hooks: answer it in Webex's shape here.
    frameworkErrors: (_error, request, reply) => {
      reply.raw.setHeader('TrackingID', request.id);
      return restError(request, reply, 400);
    },
    return503OnClosing: false,
  });

  app.removeContentTypeParser(['text/plain', 'application/json']);
  // JSON with an empty body is "no body" (the control API is often POSTed that way); bad JSON is a 400 envelope.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('The request body is not valid JSON.'), { statusCode: 400 }), undefined);
    }
  });
  // A multipart message post is read as a stream by its route (multipart.ts), past the 256 KiB JSON body limit.
  app.addContentTypeParser('multipart/form-data', (_req, payload, done) => done(null, payload));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });

  // Callback-style hooks on the hot path: no promise per request (the token endpoint must serve ≥ 5,000 req/s).
  app.addHook('onRequest', (request, reply, done) => {
    // Set on the raw response so the name keeps Webex's spelling (Fastify lower-cases the names it manages).
    reply.raw.setHeader('TrackingID', request.id);
    reply.header('Cache-Control', 'no-cache');
    // The control API before its body is read: a refused request is answered here and goes no further.
    if (isControlRequest(request) && refuseControlRequest(request, reply)) return;
    corsHeaders(request, reply);
    done();
  });

  app.addHook('preHandler', (request, reply, done) => {
    if (!ctx.faults.active || !request.routeOptions.config.fault) return done();
    // A fault that answered the request must not also continue it.
    applyFault(request, reply).then(() => {
      if (!reply.sent) done();
    }, done);
  });

  async function applyFault(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const cls = request.routeOptions.config.fault;
    if (!cls) return;
    const fault = ctx.faults.take(cls);
    if (!fault) return;
    if (fault.delayMs) await delay(fault.delayMs);
    if (fault.status === 429) return tooManyRequests(reply, fault.retryAfter ?? 60);
    if (fault.status) {
      if (fault.retryAfter !== undefined) reply.header('Retry-After', String(fault.retryAfter));
      return restError(request, reply, fault.status);
    }
    if (fault.error) {
      if (cls === 'token') return oauthError(request, reply, 400, fault.error, describeForcedError(fault.error));
      request.forcedError = fault.error;
    }
  }

  app.addHook('onResponse', (request, reply, done) => {
    const url = request.routeOptions.url ?? request.url.replace(/\?.*$/, '');
    if (!url.startsWith('/_emulator')) ctx.stats.count(`${request.method} ${url} ${reply.statusCode}`);
    done();
  });

  app.setNotFoundHandler((request, reply) => {
    corsHeaders(request, reply);
    return restError(request, reply, 404);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'emulator error');
    if (request.routeOptions.url === '/v1/authorize' || request.routeOptions.url === '/v1/device/verify')
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(errorPage('Bad request', 'The request could not be read.'));
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const type = request.headers['content-type'] ?? '';
      return restError(request, reply, 415, `Content type '${type.slice(0, 100)}' not supported`);
    }
    if (status === 500) return restError(request, reply, 500);
    return restError(request, reply, status, undefined, error.message.slice(0, 200));
  });

  app.options('/v1/*', async (request, reply) => {
    corsHeaders(request, reply);
    if (request.headers.origin === undefined) reply.header('Access-Control-Allow-Origin', '*');
    const asked = request.headers['access-control-request-headers'];
    reply.header('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
    reply.header(
      'Access-Control-Allow-Headers',
      typeof asked === 'string' && asked.length < 1000 ? asked : 'Authorization, Content-Type',
    );
    reply.header('Access-Control-Max-Age', '86400');
    return reply.code(204).send();
  });

  // Called on the app, not registered: `register` gives each plugin an encapsulation context of its own (a copy of the
  // instance and its state), ~1.3 M instructions apiece at every demo start, and none of these needs one: they add
  // routes and an onClose hook only (bench/limits.md "serve start").
  for (const routes of [
    authorizeRoutes,
    tokenRoutes,
    deviceRoutes,
    oidcRoutes,
    peopleRoutes,
    roomRoutes,
    membershipRoutes,
    messageRoutes,
    webhookRoutes,
    serviceAppRoutes,
    authorizationRoutes,
    guestRoutes,
    contentRoutes,
    controlRoutes,
  ]) {
    await routes(app, { ctx });
  }
  return app;
}

function describeForcedError(error: string): string {
  if (error === 'invalid_request') return 'The refresh token provided is expired, revoked, malformed, or invalid.';
  if (error === 'invalid_grant') return 'The provided authorization grant is invalid, expired or revoked.';
  if (error === 'tokenlimit_reached') return TOKEN_LIMIT_DESCRIPTION;
  return 'The request failed.';
}
