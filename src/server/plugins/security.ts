/**
 * Security headers on every response: a strict Content-Security-Policy (scripts and styles only from this origin,
 * no inline script), no referrer (authorization codes live in URLs), no framing, no MIME sniffing, and no caching of
 * pages (they may show tokens).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { globalPlugin } from './global.js';

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /** Origins a form may lead to (the Webex authorize endpoint: a form POST to /oauth/start redirects there). */
  formActionOrigins: string[];
  /** Origins images may come from besides this one (person avatars). */
  imageOrigins?: string[];
}

/** The Content-Security-Policy of the web app's pages. */
export function contentSecurityPolicy(options: SecurityHeadersOptions): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: https: ${(options.imageOrigins ?? []).join(' ')}`.trim(),
    "connect-src 'self'",
    // Chromium applies form-action to the redirects that follow a form submission, so the authorize origin is listed.
    `form-action 'self' ${options.formActionOrigins.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * Returns a function that puts the security headers on a reply. The plugin below applies it to every response; the
 * router's own error answers (a malformed URL, an over-long path parameter) bypass hooks, so they call it directly.
 */
export function securityHeaderSetter(
  options: SecurityHeadersOptions,
): (request: FastifyRequest, reply: FastifyReply) => void {
  const csp = contentSecurityPolicy(options);
  return (request, reply) => {
    reply.header('Content-Security-Policy', csp);
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    if (!request.url.startsWith('/static/')) reply.header('Cache-Control', 'no-store');
    if (request.protocol === 'https') reply.header('Strict-Transport-Security', 'max-age=31536000');
  };
}

/** Adds the security headers to every response. */
export const securityHeaders: FastifyPluginAsync<SecurityHeadersOptions> = globalPlugin(async (app, options) => {
  const set = securityHeaderSetter(options);
  // A callback hook, not an async one: it runs on every response (the broker's token route included), and an async
  // hook costs a promise and a microtask turn per response (~5–10 µs here, bench/limits.md).
  app.addHook('onSend', (request, reply, payload, done) => {
    set(request, reply);
    done(null, payload);
  });
});
