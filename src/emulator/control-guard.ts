/**
 * What keeps web pages away from the test-only control API (`/_emulator/*`): a page on any site could otherwise
 * inject faults, revoke tokens or reset the emulator with a form post or a `fetch`. The control API therefore
 * - sends no CORS headers (the `/v1` CORS of browser-facing Webex endpoints is not extended to it);
 * - refuses any request whose `Origin` is not the emulator's own origin (403): browsers send `Origin` on every
 *   cross-origin request and on every POST; tools (curl, Node's fetch, the tests) send none. The own origin counts
 *   only on a loopback or IP-literal host, so a DNS-rebound name cannot pass for it;
 * - takes bodies as `application/json` only (415 otherwise): a form post or `text/plain` is never a control call.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { restError } from './envelope.js';

const PREFIX = '/_emulator';

/** The request path, percent-decoded when possible (so `/%5Femulator/…` is recognised too). */
function pathOf(url: string): string {
  const raw = url.split('?')[0] ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Whether the request is for the control API (by its route, else by its path). */
export function isControlRequest(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  if (route?.startsWith(PREFIX)) return true;
  const path = pathOf(request.url).replace(/^\/+/, '/');
  return path === PREFIX || path.startsWith(`${PREFIX}/`);
}

/** A host the browser cannot have reached through someone else's DNS name: localhost or an IP literal. */
function isAddressHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || /^\[[0-9a-f:.]+\]$/.test(h);
}

/** The emulator's own origin as this request reached it, when its `Host` is an address; else undefined. */
function ownOrigin(request: FastifyRequest): string | undefined {
  const host = request.headers.host;
  if (!host || !URL.canParse(`http://${host}`)) return undefined;
  const url = new URL(`${request.protocol === 'https' ? 'https' : 'http'}://${host}`);
  return isAddressHost(url.hostname) ? url.origin : undefined;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether the request carries (or announces) a body. */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/**
 * Checks a control-API request before its body is read. Returns true when it was refused (the reply is sent):
 * 403 for a foreign `Origin`, 415 for a body that is not JSON.
 */
export function refuseControlRequest(request: FastifyRequest, reply: FastifyReply): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const own = ownOrigin(request);
    if (own === undefined || origin !== own) {
      restError(request, reply, 403, 'The control API does not answer web pages of other origins.');
      return true;
    }
  }
  if (BODY_METHODS.has(request.method)) {
    const type = request.headers['content-type'];
    const media = type?.split(';')[0]?.trim().toLowerCase();
    if ((type !== undefined && media !== 'application/json') || (type === undefined && hasBody(request))) {
      restError(request, reply, 415, 'The control API takes application/json bodies only.');
      return true;
    }
  }
  return false;
}
