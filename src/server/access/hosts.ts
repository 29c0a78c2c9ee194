/**
 * The Host allow-list, checked on every request before any route runs: `localhost`, `127.0.0.1` and `[::1]` on any
 * port, the redirect URI's host, `PUBLIC_URL`'s host and `ALLOWED_HOSTS`. Anything else is answered 421 (Misdirected
 * Request): a page reached through DNS rebinding (`rebind.attacker.example` resolving to 127.0.0.1) or through a
 * proxy that forwards any name never reaches a route, whatever the client's address.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { globalPlugin } from '../plugins/global.js';

/** The host names (lower case, no port, IPv6 in brackets) a request's Host may carry under `config`. */
export function allowedHostNames(config: Pick<Config, 'redirectUri' | 'publicUrl' | 'allowedHosts'>): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]']);
  names.add(new URL(config.redirectUri).hostname.toLowerCase());
  if (config.publicUrl) names.add(new URL(config.publicUrl).hostname.toLowerCase());
  for (const h of config.allowedHosts) names.add(h.toLowerCase());
  return names;
}

/**
 * The host name of a Host header value (`name`, `name:port`, `[v6]:port`), lower case; undefined when it is not one.
 * No URL parsing on this path: it runs on every request, the broker's token route included.
 */
export function hostNameOf(host: string | undefined): string | undefined {
  if (!host || host.length > 260) return undefined;
  const h = host.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return undefined;
    const rest = h.slice(end + 1);
    return rest === '' || /^:\d{1,5}$/.test(rest) ? h.slice(0, end + 1) : undefined;
  }
  const colon = h.indexOf(':');
  const name = colon < 0 ? h : h.slice(0, colon);
  if (colon >= 0 && !/^\d{1,5}$/.test(h.slice(colon + 1))) return undefined;
  return /^[a-z0-9.-]+$/.test(name) ? name : undefined;
}

/** Options of {@link hostCheck}. */
export interface HostCheckOptions {
  config: Pick<Config, 'redirectUri' | 'publicUrl' | 'allowedHosts'>;
}

/** Answers 421 to a request whose Host (X-Forwarded-Host under TRUST_PROXY) is not allowed, before any route. */
export const hostCheck: FastifyPluginAsync<HostCheckOptions> = globalPlugin(async (app, { config }) => {
  const allowed = allowedHostNames(config);
  // A callback hook (no promise per request): it runs on the broker's hot path too.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    const name = hostNameOf(request.host);
    if (name !== undefined && allowed.has(name)) return done();
    request.log.warn({ host: String(request.host ?? '').slice(0, 100) }, 'request refused: Host not allowed');
    reply.code(421).header('cache-control', 'no-store');
    if (request.url.startsWith('/api/')) {
      reply.type('application/problem+json').send({
        type: 'about:blank',
        title: 'Misdirected request',
        status: 421,
        code: 'misdirected_request',
        detail: 'This server does not answer for that host name. Add it to ALLOWED_HOSTS if it is yours.',
      });
      return;
    }
    reply
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><title>Misdirected request</title><p>This server does not answer for that host name. If it is yours, add it to ALLOWED_HOSTS (or set PUBLIC_URL) and restart.</p>',
      );
  });
});
