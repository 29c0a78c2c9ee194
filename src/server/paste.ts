/**
 * Paste-to-configure: developer.webex.com shows each integration's "OAuth Authorization URL"
 * (`https://webexapis.com/v1/authorize?client_id=…&response_type=code&redirect_uri=…&scope=…&state=…`). Pasting it
 * gives the client id, redirect URI, scopes and API base; the client secret is never part of it.
 */
import { type Config, isLoopbackHost } from '../config.js';

/** What a pasted authorization URL tells about its integration. */
export interface PastedIntegration {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  apiBase: string;
}

/** Hosts of the Webex authorize endpoint (commercial, legacy name, FedRAMP). */
export const WEBEX_AUTHORIZE_HOSTS = ['webexapis.com', 'api.ciscospark.com', 'api-usgov.webex.com'];

/**
 * The demo's emulator API base (e.g. `http://127.0.0.1:P/v1`), whose authorization URLs the paste form accepts and
 * whose base the form may choose: in demo mode only, and only on a loopback http(s) host — never another http host.
 */
export function demoEmulatorBase(config: Pick<Config, 'mode' | 'apiBase'>): string | undefined {
  if (config.mode !== 'demo' || !URL.canParse(config.apiBase)) return undefined;
  const base = new URL(config.apiBase);
  if (!/^https?:$/.test(base.protocol) || !isLoopbackHost(base.hostname.replace(/^\[|\]$/g, ''))) return undefined;
  return config.apiBase;
}

/** The result of parsing a pasted URL: the integration, or one sentence saying what is wrong. */
export type PasteResult = { ok: true; integration: PastedIntegration } | { ok: false; message: string };

/**
 * Parses a pasted Webex "OAuth Authorization URL". `extraOrigins` lists other accepted API origins (the emulator's in
 * demo mode).
 */
export function parseAuthorizationUrl(input: string, extraOrigins: string[] = []): PasteResult {
  const text = input.trim();
  const fail = (message: string): PasteResult => ({ ok: false, message });
  if (text === '')
    return fail('Paste the "OAuth Authorization URL" shown on your integration\'s page at developer.webex.com.');
  if (text.length > 4096) return fail('That is too long to be a Webex authorization URL.');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(
      'That is not a URL. Copy the whole "OAuth Authorization URL", starting with https://webexapis.com/v1/authorize.',
    );
  }
  const knownHost = url.protocol === 'https:' && WEBEX_AUTHORIZE_HOSTS.includes(url.hostname);
  if (!knownHost && !extraOrigins.includes(url.origin)) {
    return fail('That is not a Webex authorization URL: it should start with https://webexapis.com/v1/authorize.');
  }
  const match = /^(.*\/v1)\/authorize\/?$/.exec(url.pathname);
  if (!match) return fail('That Webex URL is not the authorization URL: its path should be /v1/authorize.');
  const clientId = url.searchParams.get('client_id') ?? '';
  const redirectUri = url.searchParams.get('redirect_uri') ?? '';
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(clientId)) return fail('The URL has no valid client_id.');
  if (!URL.canParse(redirectUri) || !/^https?:$/.test(new URL(redirectUri).protocol)) {
    return fail('The URL has no valid redirect_uri.');
  }
  const scopes = (url.searchParams.get('scope') ?? '')
    .split(/[\s+]+/)
    .filter((s) => /^[A-Za-z0-9_:.-]{1,100}$/.test(s));
  return {
    ok: true,
    integration: { clientId, redirectUri, scopes: [...new Set(scopes)], apiBase: `${url.origin}${match[1]}` },
  };
}
