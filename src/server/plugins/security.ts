/**
 * Security headers on every response: a strict Content-Security-Policy (scripts and styles only from this origin,
 * no inline script), no referrer (authorization codes live in URLs), no framing, no MIME sniffing, and no caching of
 * pages (they may show tokens). The broker API's JSON answers (`/api/`) get the subset that applies to them.
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

/** The Content-Security-Policy of the broker API's answers (`/api/`): JSON loads nothing and is framed nowhere. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** The security headers of an `/api/` answer besides `Cache-Control: no-store` (names in lower case). */
const API_NAMES = ['content-security-policy', 'x-frame-options', 'x-content-type-options'];
const API_VALUES = [API_CONTENT_SECURITY_POLICY, 'DENY', 'nosniff'];

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
    const url = request.url;
    // The broker API answers JSON to bots, never a document: it gets the headers OWASP's REST guidance lists
    // (no-store, nosniff, no framing, a CSP that loads nothing, HSTS on https). Referrer-Policy, Permissions-Policy and
    // Cross-Origin-Opener-Policy govern what a rendered page does, and the pages' CSP lists their sources: none of it
    // applies there, and each header sent costs every token request Node's checks of its name and value
    // (bench/limits.md).
    const api = url.startsWith('/api/');
    const n = api ? API_NAMES : names;
    const v = api ? API_VALUES : values;
    for (let i = 0; i < n.length; i++) reply.header(n[i] as string, v[i]);
    if (!url.startsWith('/static/')) reply.header('cache-control', 'no-store');
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
