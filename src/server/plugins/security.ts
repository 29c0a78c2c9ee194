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
  // Built once, names in lower case (Fastify lower-cases each name it is given): this runs on every response.
  const names = [
    'content-security-policy',
    'referrer-policy',
    'x-frame-options',
    'x-content-type-options',
    'cross-origin-opener-policy',
    'permissions-policy',
  ];
  const values = [
    contentSecurityPolicy(options),
    'no-referrer',
    'DENY',
    'nosniff',
    'same-origin',
    'camera=(), microphone=(), geolocation=()',
  ];
  return (request, reply) => {
    for (let i = 0; i < names.length; i++) reply.header(names[i] as string, values[i]);
    if (!request.url.startsWith('/static/')) reply.header('cache-control', 'no-store');
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
  };
}

/** Options of the {@link securityHeaders} plugin. */
export interface SecurityPluginOptions extends SecurityHeadersOptions {
  /**
   * Whether the server is closing: then every answer also gets `Connection: close` (app.ts). Part of this plugin's
   * one hook rather than a second one: each onSend hook is a call and a `done` turn on every response.
   */
  closing?: () => boolean;
}

/** Adds the security headers to every response (and `Connection: close` once the server is closing). */
export const securityHeaders: FastifyPluginAsync<SecurityPluginOptions> = globalPlugin(async (app, options) => {
  const set = securityHeaderSetter(options);
  const closing = options.closing;
  // A callback hook, not an async one: it runs on every response (the broker's token route included), and an async
  // hook costs a promise and a microtask turn per response (~5–10 µs here, bench/limits.md).
  app.addHook('onSend', (request, reply, payload, done) => {
    set(request, reply);
    if (closing?.()) reply.header('connection', 'close');
    done(null, payload);
  });
});
