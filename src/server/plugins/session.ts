/**
 * The session plugin: a signed cookie (`HttpOnly`, `SameSite=Lax`, `Secure` over https) carrying a random session id,
 * `request.session` for every page, and a CSRF check on every state-changing POST outside the API.
 */
import cookie from '@fastify/cookie';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../../oauth/callback.js';
import { type SessionData, SessionStore } from '../session.js';
import { globalPlugin } from './global.js';

/** The name of the session cookie. */
export const SESSION_COOKIE = 'webex_auth_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** This browser's session (created on first use). */
    session: SessionData;
  }
  interface FastifyInstance {
    sessions: SessionStore;
  }
}

/** Options of {@link sessionPlugin}. */
export interface SessionPluginOptions {
  /** Key that signs the session cookie. */
  secret: string;
  /** Whether the app is served over https (adds `Secure`). */
  secure: boolean;
  clock?: () => number;
}

/** Paths whose POSTs are not form posts from our pages (the bearer-token broker API). */
function csrfExempt(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/');
}

/** Registers cookies, sessions and CSRF protection. */
export const sessionPlugin: FastifyPluginAsync<SessionPluginOptions> = globalPlugin(async (app, options) => {
  await app.register(cookie, { secret: options.secret });
  const store = new SessionStore(options.clock);
  app.decorate('sessions', store);
  app.decorateRequest('session', null as unknown as SessionData);

  app.addHook('onRequest', async (request, reply) => {
    if (/^\/(api\/|static\/|metrics|healthz|readyz)/.test(request.url)) return;
    const signed = request.cookies[SESSION_COOKIE];
    const unsigned = signed ? request.unsignCookie(signed) : undefined;
    let session = unsigned?.valid ? store.get(unsigned.value ?? undefined) : undefined;
    if (!session) {
      session = store.create();
      reply.setCookie(SESSION_COOKIE, session.id, {
        signed: true,
        httpOnly: true,
        sameSite: 'lax',
        secure: options.secure,
        path: '/',
      });
    }
    request.session = session;
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || csrfExempt(request)) return;
    const body = request.body as Record<string, unknown> | undefined;
    const sent = typeof body?._csrf === 'string' ? body._csrf : request.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !request.session || !constantTimeEqual(sent, request.session.csrf)) {
      return reply
        .code(403)
        .type('text/html; charset=utf-8')
        .send(
          app.renderError(request, {
            status: 403,
            title: 'Form expired',
            explanation: 'This form was not sent from a page of this session (it expired, or another site sent it).',
            action: 'Go back, reload the page and try again.',
          }),
        );
    }
  });
});
