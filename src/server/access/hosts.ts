/**
 * The Host allow-list, checked on every request before any route runs: `localhost`, `127.0.0.1` and `[::1]` on any
 * port, the redirect URI's host, `PUBLIC_URL`'s host and `ALLOWED_HOSTS`. Anything else is answered 421 (Misdirected
 * Request): a page reached through DNS rebinding (`rebind.attacker.example` resolving to 127.0.0.1) or through a
 * proxy that forwards any name never reaches a route, whatever the client's address.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { globalPlugin } from '../plugins/global.js';

/**
 * The host names (lower case, no port, IPv6 in brackets) a request's Host may carry under `config`. In local mode only
 * loopback names (and ALLOWED_HOSTS, which an operator forcing local mode set on purpose): a name that reaches this
 * server from elsewhere is not the local operator.
 */
export function allowedHostNames(
  config: Pick<Config, 'redirectUri' | 'publicUrl' | 'allowedHosts' | 'accessMode'>,
): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]']);
  if (config.accessMode === 'team') {
    names.add(new URL(config.redirectUri).hostname.toLowerCase());
    if (config.publicUrl) names.add(new URL(config.publicUrl).hostname.toLowerCase());
  }
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
  config: Pick<Config, 'redirectUri' | 'publicUrl' | 'allowedHosts' | 'accessMode'>;
}

/** Host names logged as refused at most once each, and this many at most (a scanner cannot flood the log). */
const LOGGED_REFUSALS = 100;

/** Answers 421 to a request whose Host (X-Forwarded-Host under TRUST_PROXY) is not allowed, before any route. */
export const hostCheck: FastifyPluginAsync<HostCheckOptions> = globalPlugin(async (app, { config }) => {
  const allowed = allowedHostNames(config);
  const local = config.accessMode === 'local';
  const logged = new Set<string>();
  // The last Host value found allowed: the allow-list never changes, so the same value is allowed again without
  // parsing it (clients send the same Host on every request). One value only, so no input can grow it.
  let lastAllowed: string | undefined;
  // A callback hook (no promise per request): it runs on the broker's hot path too.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    const host = request.host;
    // In local mode a request relayed by a proxy (it says so in Forwarded / X-Forwarded-For) is not the local operator's.
    const relayed =
      local && (request.headers.forwarded !== undefined || request.headers['x-forwarded-for'] !== undefined);
    if (!relayed && lastAllowed !== undefined && host === lastAllowed) return done();
    const name = hostNameOf(host);
    if (name !== undefined && allowed.has(name) && !relayed) {
      lastAllowed = host;
      return done();
    }
    const shown = relayed ? 'relayed by a proxy' : String(host ?? '').slice(0, 100);
    if (!logged.has(shown) && logged.size < LOGGED_REFUSALS) {
      logged.add(shown);
      request.log.warn({ host: shown }, 'request refused: Host not allowed (further refusals of it are not logged)');
    }
    reply.code(421).header('cache-control', 'no-store');
    if (request.url.startsWith('/api/')) {
      reply.type('application/problem+json').send({
        type: 'about:blank',
        title: 'Misdirected request',
        status: 421,
        code: 'misdirected_request',
        detail: relayed
          ? 'This server runs in local mode and does not answer through a proxy. Set PUBLIC_URL (team mode) to share it.'
          : 'This server does not answer for that host name. Add it to ALLOWED_HOSTS if it is yours.',
      });
      return;
    }
    reply
      .type('text/html; charset=utf-8')
      .send(
        relayed
          ? '<!doctype html><title>Misdirected request</title><p>This server runs in local mode (no sign-in) and does not answer through a proxy. To share it, set PUBLIC_URL (team mode: Sign in with Webex) and restart.</p>'
          : '<!doctype html><title>Misdirected request</title><p>This server does not answer for that host name. If it is yours, add it to ALLOWED_HOSTS (or set PUBLIC_URL) and restart.</p>',
      );
  });
});
