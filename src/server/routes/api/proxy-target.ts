/**
 * Where the proxy may send a connection's calls (SECURITY.md, "Webex proxy"): only ever to the connection's own API
 * base, and in team mode only when that base is Webex's (`https://webexapis.com`, `https://api-usgov.webex.com`), the
 * server's own configured API base (`WEBEX_API_BASE`: the emulator of a demo), or one `ALLOWED_API_BASES` lists — so
 * a member's brought integration cannot turn the broker into a client of any host it can reach, a service on the
 * broker's own machine (any loopback port) included.
 */
import type { AccessMode } from '../../../config.js';

const WEBEX_HOSTS = new Set(['webexapis.com', 'api-usgov.webex.com']);

/** Whether the proxy may call `apiBase` under `config`. */
export function apiBaseAllowed(
  apiBase: string,
  config: { accessMode: AccessMode; allowedApiBases: readonly string[]; apiBase?: string | undefined },
): boolean {
  if (!URL.canParse(apiBase)) return false;
  const url = new URL(apiBase);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (config.accessMode === 'local') return true;
  if (url.protocol === 'https:' && WEBEX_HOSTS.has(url.hostname) && url.port === '') return true;
  const base = apiBase.replace(/\/+$/, '');
  if (config.apiBase !== undefined && base === config.apiBase.replace(/\/+$/, '')) return true;
  return config.allowedApiBases.includes(base);
}
