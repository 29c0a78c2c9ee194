/**
 * The session plugin: reads the signed session cookie, loads the session from the store, works out who is asking
 * (`request.principal`, see access/principal.ts), enforces each route's access level, and checks CSRF on every
 * state-changing form POST (a stateless signed token plus a Fetch Metadata / Origin check).
 *
 * Routes declare their level as `config: { access: 'anyone' | 'member' | 'admin' }`; a route that declares nothing
 * needs a member. The broker API (`/api/`) is registered before this plugin and authenticates API keys itself.
 */
import cookie from '@fastify/cookie';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import type { WebSession, WebSessions } from '../../vault/types.js';
import { liveCookieSigner } from '../access/cookie-signer.js';
import { CsrfTokens, crossSiteRequest } from '../access/csrf.js';
import { type Access, allows, hasAdminBearer, type Principal, principalOf } from '../access/principal.js';
import { SECURE_SESSION_COOKIE, SESSION_COOKIE, type SessionData, SessionManager } from '../session.js';
import { adminUnlockView, localPath } from '../views/signin.js';
import { globalPlugin } from './global.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** This browser's session, when it has one (none is made for an anonymous GET). */
    session: WebSession | undefined;
    /** Who this request acts for. */
    principal: Principal;
    /** The CSRF token for forms on this request's page (made on first read, for the session the request has then). */
    csrf: string;
    /**
     * The CSRF token once made for the request's current session; `undefined` makes `csrf` issue one again (a new
     * session, none any more).
     */
    csrfIssued: string | undefined;
  }
  interface FastifyInstance {
    sessions: SessionManager;
    csrf: CsrfTokens;
  }
  interface FastifyContextConfig {
    /** Who may call the route (default `member`). */
    access?: Access;
    /** `false`: a machine endpoint that authenticates each request itself (a signed webhook delivery), no CSRF check. */
    csrf?: false;
  }
}

/** Options of {@link sessionPlugin}. */
export interface SessionPluginOptions {
  config: Pick<
    Config,
    | 'accessMode'
    | 'adminToken'
    | 'adminEmails'
    | 'publicUrl'
    | 'allowedEmailDomains'
    | 'allowedOrgIds'
    | 'sessionCreationPerMinute'
  >;
  sessions: WebSessions;
  /** Keys derived from the key ring: cookie signing (first signs, any verifies). */
  cookieKeys: Buffer[];
  /** Keys derived from the key ring: CSRF tokens. */
  csrfKeys: Buffer[];
  clock?: () => number;
}

/** Paths that never use a session (static files, health, metrics are read by scripts). */
const SESSIONLESS = /^\/(static\/|healthz|readyz)/;

/** Registers cookies, sessions, the access check and CSRF protection. */
export const sessionPlugin: FastifyPluginAsync<SessionPluginOptions> = globalPlugin(async (app, options) => {
  const { config } = options;
  const publicOrigin = config.publicUrl?.toLowerCase();
  // Read at each use (cookieKeys and csrfKeys are live arrays a key ring reload refills in place).
  await app.register(cookie, { secret: liveCookieSigner(options.cookieKeys) });
  const manager = new SessionManager(options.sessions, config, options.clock);
  const csrf = new CsrfTokens(options.csrfKeys, options.clock);
  app.decorate('sessions', manager);
  app.decorate('csrf', csrf);
  app.decorateRequest('session', undefined);
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('csrfIssued', undefined);
  // Issued when a page first needs it, not for every request: most answers (a redirect, /healthz, a callback) carry
  // no form, and each token is an HMAC.
  app.decorateRequest('csrf', {
    getter(this: FastifyRequest): string {
      if (this.csrfIssued === undefined) this.csrfIssued = csrf.issue(this.session?.id);
      return this.csrfIssued;
    },
    setter(this: FastifyRequest, value: string) {
      this.csrfIssued = value;
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/api/')) return;
    if (!SESSIONLESS.test(request.url)) {
      const name = manager.cookieName(request);
      const id = manager.signedCookie(request, name);
      if (id) request.session = await manager.store.get(id);
      if (request.cookies[name] && !request.session) reply.clearCookie(name, { path: '/' });
    }
    request.principal = principalOf(
      config,
      request.session?.data as SessionData | undefined,
      request.headers.authorization,
      (options.clock ?? Date.now)(),
    );
    const access: Access = request.is404 ? 'anyone' : (request.routeOptions.config.access ?? 'member');
    if (!allows(request.principal, access)) return deny(request, reply, access);
    await manager.touch(request);
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || request.url.startsWith('/api/')) return;
    // A machine endpoint (a signed webhook delivery) proves itself instead.
    if (request.routeOptions.config.csrf === false) return;
    // A script holding the admin token is not a browser: nothing for another site to forge.
    if (hasAdminBearer(config, request.headers.authorization)) return;
    // Behind a TLS proxy without TRUST_PROXY the request looks like http; browsers send PUBLIC_URL's origin.
    const own = [`${request.protocol}://${request.host}`.toLowerCase(), ...(publicOrigin ? [publicOrigin] : [])];
    const body = request.body as Record<string, unknown> | undefined;
    const sent = typeof body?._csrf === 'string' ? body._csrf : request.headers['x-csrf-token'];
    const data = request.session?.data as SessionData | undefined;
    // A form rendered before this browser had a session carries an anonymous token; it stays good until the session
    // holds something worth forging a request for (a signed-in account, an unlocked admin).
    const allowAnonymous = !data?.account && !data?.adminUnlocked;
    if (crossSiteRequest(request.headers, own) || !csrf.verify(sent, request.session?.id, allowAnonymous)) {
      return reply.errorPage({
        status: 403,
        title: 'Form expired',
        explanation: 'This form was not sent from a current page of this site (it expired, or another site sent it).',
        action: 'Go back, reload the page and try again.',
      });
    }
  });

  /** Answers a request that does not meet its route's level. */
  function deny(request: FastifyRequest, reply: FastifyReply, access: Access) {
    const p = request.principal;
    if (config.accessMode === 'team' && !p.account && !p.admin) {
      if (request.method === 'GET') return reply.code(303).redirect('/?signin=required');
      return reply.errorPage({
        status: 401,
        title: 'Sign in first',
        explanation: 'This server is shared by a team: sign in with Webex before using it.',
        action: 'Go to the home page and press “Sign in with Webex”.',
      });
    }
    if (access === 'admin' && config.accessMode === 'local' && config.adminToken) {
      const next = request.method === 'GET' ? localPath(request.url) : '/';
      return reply.code(401).page('Admin token required', adminUnlockView({ csrf: request.csrf, next }));
    }
    return reply.errorPage({
      status: 403,
      title: 'Admins only',
      explanation:
        config.accessMode === 'team'
          ? 'This page is for the admins listed in ADMIN_EMAILS.'
          : 'This page needs the admin token.',
      action: 'Go to the home page.',
    });
  }
});

export { SECURE_SESSION_COOKIE, SESSION_COOKIE };
