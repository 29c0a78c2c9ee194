/**
 * Where the proxy may send a connection's calls (SECURITY.md, "Webex proxy"): only ever to the connection's own API
 * base, and in team mode only when that base is Webex's (`https://webexapis.com`, `https://api-usgov.webex.com`), a
 * loopback one (the emulator), or one `ALLOWED_API_BASES` lists — so a member's brought integration cannot turn the
 * broker into a client of any host it can reach.
 */
import { type AccessMode, isLoopbackHost } from '../../../config.js';

const WEBEX_HOSTS = new Set(['webexapis.com', 'api-usgov.webex.com']);

/** Whether the proxy may call `apiBase` under `config`. */
export function apiBaseAllowed(
  apiBase: string,
  config: { accessMode: AccessMode; allowedApiBases: readonly string[] },
): boolean {
  if (!URL.canParse(apiBase)) return false;
  const url = new URL(apiBase);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (config.accessMode === 'local') return true;
  if (url.protocol === 'https:' && WEBEX_HOSTS.has(url.hostname) && url.port === '') return true;
  if (isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) return true;
  return config.allowedApiBases.includes(apiBase.replace(/\/+$/, ''));
}
