/**
 * The web app and token broker: `buildApp(config)` returns a ready Fastify instance without listening;
 * `listen()` is separate so tests use `app.inject()` and the CLI's `serve` listens. One plugin per concern:
 * security headers, session (+ CSRF), views, home, OAuth, connection pages, space demo, health, broker API.
 */
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { assertServable, type Config, WEBEX_API_BASE, WEBEX_FEDRAMP_API_BASE } from '../config.js';
import { createLogger } from '../log.js';
import type { FetchLike } from '../oauth/types.js';
import { createTransport, type Transport } from '../transport/index.js';
// vault.js, not the vault's index: the index also re-exports both stores, which would load pg and better-sqlite3
// eagerly; openVault imports only the driver the configuration selects.
import { CONFIGURED_OWNER } from '../vault/types.js';
import { openVault } from '../vault/vault.js';
import { hostCheck } from './access/hosts.js';
import type { ServerContext } from './context.js';
import type { TlsFiles } from './https.js';
import { missingKeyOf, sendKeyUnavailable } from './key-unavailable.js';
import { makeChildLoggersLazy, quietLogController } from './lazy-logger.js';
import { lazyBuildSerializer, lazyBuildValidator } from './lazy-validation.js';
import { type SecurityHeadersOptions, securityHeaderSetter, securityHeaders } from './plugins/security.js';
import { sessionPlugin } from './plugins/session.js';
import { viewsPlugin } from './plugins/views.js';
import type { ServerVault } from './ports.js';
import { adminConnectionsRoutes, type BrokerVault, brokerRoutes, metricsRoutes } from './routes/api/index.js';
import { auditRoutes } from './routes/audit.js';
import { connectionRoutes } from './routes/connections.js';
import { healthRoutes } from './routes/health.js';
import { homeRoutes } from './routes/home.js';
import { identityRoutes } from './routes/identities.js';
import { keysRoutes } from './routes/keys.js';
import { handleCallback, isPendingCallback, oauthRoutes } from './routes/oauth.js';
import { sessionLimitPage, signinRoutes } from './routes/signin.js';
import { spaceRoutes } from './routes/space.js';
import { webhooksRoutes } from './routes/webhooks.js';
import { SessionLimitError } from './session.js';

/** Options of {@link buildApp} beyond the configuration. */
export interface BuildAppOptions {
  /** The token store (default: opened from the configuration, and closed with the app). */
  vault?: ServerVault;
  /** Run the vault's keep-alive refresher while the app runs (only for a vault the app opens itself). */
  keepAlive?: boolean;
  /** The transport of every call out (default: one of the app's own, closed with it; see src/transport/). */
  transport?: Transport;
  /** The fetch used to reach Webex, if not the transport's (tests: a fault-injecting one). */
  fetch?: FetchLike;
  /** Logger to use (default: a redacting pino logger at `config.logLevel`). */
  logger?: ReturnType<typeof createLogger>;
  /** Serve over https with this key and certificate (see https.ts); cookies get `Secure`. */
  tls?: TlsFiles;
}

function isFullVault(vault: ServerVault): vault is ServerVault & BrokerVault {
  return 'apiKeys' in vault;
}

/** A label of where tokens come from, for the header. */
function modeLabel(config: Config): string {
  return { demo: 'Demo (local emulator)', webex: 'Webex', fedramp: 'Webex for Government', custom: 'Custom API' }[
    config.mode
  ];
}

/** The paths the callback is served at: the configured redirect URI's path, and the two the Webex guides use. */
export function callbackPathsFor(config: Pick<Config, 'redirectUri'>): Set<string> {
  return new Set([new URL(config.redirectUri).pathname, '/oauth', '/webex-auth.html']);
}

/** How often expired sessions and taken states are deleted from the store. */
const SESSION_PURGE_MS = 10 * 60_000;

/**
 * Builds the web app + broker for `config`.
 * @throws {ConfigError} in team mode without a configured integration (Sign in with Webex needs one).
 */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  assertServable(config);
  const security: SecurityHeadersOptions = {
    formActionOrigins: [
      ...new Set([
        new URL(config.apiBase).origin,
        new URL(WEBEX_API_BASE).origin,
        new URL(WEBEX_FEDRAMP_API_BASE).origin,
      ]),
    ],
    imageOrigins: [new URL(config.apiBase).origin],
  };
  const setSecurityHeaders = securityHeaderSetter(security);
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'webex-auth' });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Nor are the per-request lines' arguments built when the route's level drops them (the token route's `warn`).
    logController: quietLogController(),
    bodyLimit: 64 * 1024,
    // Webex codes and states are short; anything near this is hostile.
    routerOptions: { maxParamLength: 200 },
    // Route schemas are compiled on their first request, and response schemas on their first answer, not at start-up
    // (lazy-validation.ts).
    schemaController: {
      compilersFactory: { buildValidator: lazyBuildValidator(), buildSerializer: lazyBuildSerializer() },
    },
    // The router's own errors (an over-long path parameter, a malformed URL) bypass the error handler; without this
    // Fastify answers JSON that reflects the path, on pages and API alike.
    frameworkErrors: (error, request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      setSecurityHeaders(request as unknown as FastifyRequest, reply);
      if (request.url.startsWith('/api/')) {
        reply
          .code(status)
          .type('application/problem+json')
          .send({ type: 'about:blank', title: 'Invalid request', status, code: 'invalid_request' });
        return;
      }
      reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send('<!doctype html><title>Bad request</title><p>This address is not valid here. <a href="/">Home</a></p>');
    },
    // TRUST_PROXY: only then do X-Forwarded-Proto/For/Host count (request.protocol, .ip, .host).
    // A hop count becomes the function Fastify makes of one (its types take no number).
    trustProxy:
      typeof config.trustProxy === 'number'
        ? (_address: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy,
    ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}),
  });
  // Each request's child logger is made on its first enabled log call, not for every request: pino redacted every
  // child's bindings although nothing was logged at LOG_LEVEL=warn/silent (lazy-logger.ts).
  makeChildLoggersLazy(app.log);
  // First of all hooks, before any route (the broker's included): a Host this server does not answer for is 421.
  await app.register(hostCheck, { config });
  // Not the global fetch: undici's WHATWG machinery cost more CPU per code exchange than the rest of it (bench/flow.mjs).
  let transport: Transport;
  if (options.transport) transport = options.transport;
  else {
    const own = createTransport();
    app.addHook('onClose', () => own.close());
    transport = own;
  }
  const fetchImpl = options.fetch ?? transport.fetch;
  let vault: ServerVault;
  if (options.vault) vault = options.vault;
  else {
    const own = await openVault(config, { fetch: fetchImpl, logger });
    if (options.keepAlive) own.startKeepAlive();
    app.addHook('onClose', async () => {
      own.stopKeepAlive();
      await own.close();
    });
    vault = own;
  }

  let defaultIntegrationId: string | undefined;
  if (config.clientId && config.clientSecret) {
    const stored = await vault.integrations.upsert({
      ownerId: CONFIGURED_OWNER,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      redirectUri: config.redirectUri,
      apiBase: config.apiBase,
      scopes: config.scopes,
    });
    defaultIntegrationId = stored.id;
  }
  const ctx: ServerContext = {
    config,
    vault,
    fetch: fetchImpl,
    defaultIntegrationId,
    callbackPaths: callbackPathsFor(config),
  };
  const https = options.tls !== undefined;

  // Set before any route is registered: Fastify gives each route the error handler current at its registration, so
  // a handler set after the plugins would leave their routes with the default JSON one (a 413 form post got JSON).
  app.setErrorHandler(async (error, request, reply) => {
    // Too many new sessions from one address: wherever a route made one, the answer is the same 429 page.
    if (error instanceof SessionLimitError) return sessionLimitPage(reply, error);
    // Stored data under a key another process rotated to: 503 naming the key until this server loads it (never 500).
    const missingKey = missingKeyOf(error);
    if (missingKey) return sendKeyUnavailable(reply, missingKey);
    const status =
      typeof (error as { statusCode?: number }).statusCode === 'number'
        ? (error as { statusCode: number }).statusCode
        : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (request.url.startsWith('/api/')) {
      return reply
        .code(status)
        .type('application/problem+json')
        .send({
          type: 'about:blank',
          title: status >= 500 ? 'Internal error' : 'Bad request',
          status,
          code: status >= 500 ? 'internal' : 'invalid_request',
        });
    }
    if (status < 500) {
      return reply.errorPage({
        status,
        title: status === 413 ? 'Request too large' : 'Bad request',
        explanation:
          status === 413 ? 'The form sent more data than this app accepts.' : 'The request could not be understood.',
        action: 'Go back to the home page and try again.',
      });
    }
    return reply.errorPage({
      status: 500,
      title: 'Something went wrong',
      explanation: 'The server failed while handling this request; the details are in its log.',
      action: 'Try again; if it persists, check the server log.',
    });
  });
  // Once closing, in-flight requests are answered with `Connection: close`: a keep-alive socket left idle after
  // close() kept the process alive until the client dropped it (SIGTERM during traffic took a minute to exit).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  await app.register(formbody);
  // The security headers' hook also adds `Connection: close` once closing (one onSend hook per response, not two).
  await app.register(securityHeaders, { ...security, closing: () => closing });
  // The token broker (vault engineer's plugin) needs the API keys; a page-only stand-in vault (tests) has none.
  // Its routes do not run the cookie, session and CSRF hooks (the pages' context below holds them): the broker API is
  // bearer-authenticated, CSRF-exempt and never uses a session. It keeps the security headers and the closing hook.
  const fullVault = isFullVault(vault) ? vault : undefined;
  if (fullVault) {
    const rateLimit = { perSecond: config.apiKeyRateLimit, burst: config.apiKeyRateBurst };
    await app.register(brokerRoutes, {
      vault: fullVault,
      config,
      rateLimit,
      proxy: { dispatcher: transport.dispatcher },
    });
  }
  // The pages (and /metrics, the admin pages) in a context of their own, apart from the broker: a hook added to the
  // root reaches every context already registered too (Fastify copies it into each child), so only this sibling
  // context keeps the cookie, session and CSRF hooks off the broker's routes. The error handler, security headers,
  // Host check and closing hook above are the root's and apply to both.
  await app.register(async (pages) => {
    await pages.register(viewsPlugin, {
      demo: config.mode === 'demo',
      modeLabel: modeLabel(config),
      selfSigned: https,
      accessMode: config.accessMode,
    });
    // Sessions live in the store; the cookie and CSRF keys derive from the key ring, so instances sharing
    // DATABASE_URL and WEBEX_AUTH_KEYS share sessions, and a restart loses none.
    await pages.register(sessionPlugin, {
      config,
      sessions: vault.sessions,
      cookieKeys: vault.deriveKeys('session cookie'),
      csrfKeys: vault.deriveKeys('csrf'),
    });
    const purge = setInterval(() => {
      vault.sessions
        .purgeExpired()
        .catch((err: unknown) => app.log.warn({ err: { name: (err as Error).name } }, 'session purge failed'));
      // The audit log keeps AUDIT_RETENTION_DAYS: older entries go on the same timer.
      vault.audit
        .purge()
        .catch((err: unknown) => app.log.warn({ err: { name: (err as Error).name } }, 'audit purge failed'));
    }, SESSION_PURGE_MS);
    purge.unref();
    app.addHook('onClose', async () => clearInterval(purge));
    // The route plugins are called on the pages' context, not registered: `register` gives each one an encapsulation
    // context of its own (a copy of the instance and its state), ~1.3 M instructions apiece at every start, and none
    // needs one — they add routes and application hooks (onListen, preClose) only; what needs its own context (the
    // space's webhook receiver, the identities' raw-body parser) registers one inside (bench/limits.md "serve start").
    for (const routes of [
      healthRoutes,
      homeRoutes,
      signinRoutes,
      auditRoutes,
      oauthRoutes,
      connectionRoutes,
      keysRoutes,
      webhooksRoutes,
      spaceRoutes,
      identityRoutes,
    ]) {
      await routes.call(pages, pages, { ctx });
    }
    if (fullVault) {
      await metricsRoutes.call(pages, pages, { vault: fullVault });
      await adminConnectionsRoutes.call(pages, pages, { vault: fullVault, config });
    }

    pages.setNotFoundHandler(async (request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      // A brought integration's redirect path is served only for a flow this browser started there.
      if (request.method === 'GET' && request.url.includes('?') && (await isPendingCallback(ctx, request, path))) {
        return handleCallback(ctx, request, reply);
      }
      if (path.startsWith('/api/')) {
        return reply
          .code(404)
          .type('application/problem+json')
          .send({ type: 'about:blank', title: 'Not found', status: 404, code: 'not_found' });
      }
      return reply.errorPage({
        status: 404,
        title: 'Page not found',
        explanation: 'There is no page at this address.',
        action: 'Go to the home page.',
      });
    });
  });

  return app;
}

/** Starts listening; resolves to the base URL. */
export async function listen(
  app: FastifyInstance,
  config: Pick<Config, 'port' | 'host'>,
  protocol: 'http' | 'https' = 'http',
): Promise<string> {
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${protocol}://${host === '127.0.0.1' ? 'localhost' : host}:${port}`;
}
