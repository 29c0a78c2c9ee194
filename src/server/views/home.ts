/** The home page: mode, redirect URI to register, client id (masked), the scope picker with presets, and Start. */
import { OIDC_SCOPES, SCOPES, type ScopeInfo } from '../../scopes/catalog.js';
import { html, type SafeHtml } from '../html.js';

/** A named set of scopes offered as one click, for one job. */
export interface ScopePreset {
  id: string;
  /** The job the preset fits, as the button says it. */
  label: string;
  /** What the grant lets that job do, in a few words. */
  why: string;
  /** What the job needs, `openid` included (so the person is known even without `spark:people_read`). */
  scopes: string[];
}

/**
 * The presets of the scope picker: a few common jobs, each granted what it needs and no more. Every one asks for
 * `openid`, whose id_token names the person, so a connection made without `spark:people_read` still belongs to a known
 * person (and authorizing again with more scopes updates it).
 */
export const SCOPE_PRESETS: readonly ScopePreset[] = [
  {
    id: 'people-rooms',
    label: 'Who am I and my spaces',
    why: 'your profile and the titles of your spaces',
    scopes: ['spark:people_read', 'spark:rooms_read', 'openid'],
  },
  {
    id: 'read-messages',
    label: 'Out-of-office bot',
    why: 'be told of and read the direct messages you receive; the bot replies with its own bot token',
    scopes: ['spark:messages_read', 'openid'],
  },
  {
    id: 'space-demo',
    label: 'Chat in a space',
    why: 'the space demo: read the space and post in it as you',
    scopes: ['spark:people_read', 'spark:rooms_read', 'spark:messages_read', 'spark:messages_write', 'openid'],
  },
  {
    id: 'everything',
    label: 'Everything',
    why: 'every user-level spark: scope (spark:all)',
    scopes: ['spark:all', 'openid'],
  },
];

/** A connection this browser completed, for the list on the home page. */
export interface HomeConnection {
  id: string;
  name: string;
  email: string;
  /** `integration`, `service_app` or `bot` (undefined: `integration`). */
  kind?: string | undefined;
}

/** What the home page shows. */
export interface HomeModel {
  csrf: string;
  modeDescription: string;
  /** The integration flows start with; undefined shows the bring-your-own form instead. */
  integration:
    | {
        clientIdMasked: string;
        redirectUri: string;
        source: 'configured' | 'demo' | 'this browser';
        scopes: string[];
        /** Where this integration's tokens come from, in words (`the local Webex emulator`, `Webex (webexapis.com)`…). */
        tokensFrom?: string | undefined;
      }
    | undefined;
  /** Scopes checked by default. */
  defaultScopes: string[];
  connections: HomeConnection[];
  /** True when the redirect URI is https with a self-signed certificate. */
  selfSigned: boolean;
  byo: SafeHtml | undefined;
}

/** Masks a client id, keeping its first 4 and last 4 characters. */
export function maskId(id: string): string {
  return id.length <= 12 ? `${id.slice(0, 2)}…` : `${id.slice(0, 4)}…${id.slice(-4)}`;
}

function scopeItem(s: ScopeInfo, checked: boolean): SafeHtml {
  const id = `scope-${s.name.replace(/[^A-Za-z0-9]/g, '-')}`;
  return html`<li><label for="${id}"><input type="checkbox" id="${id}" name="scope" value="${s.name}"${checked ? html` checked` : ''}>
<span><code>${s.name}</code><span class="meaning">${s.meaning}</span></span></label></li>`;
}

/** The scope lists of the picker by defaults and offered scopes: the same few on every home page, so built once. */
const scopeListsCache = new Map<string, SafeHtml>();
const SCOPE_LISTS_CACHED = 64;

/** The scope picker (a form that POSTs to /oauth/start). */
export function scopePicker(csrf: string, defaults: string[], offered?: string[]): SafeHtml {
  const key = `${defaults.join(' ')}|${offered?.join(' ') ?? ''}`;
  let lists = scopeListsCache.get(key);
  if (!lists) {
    lists = scopeLists(defaults, offered);
    if (scopeListsCache.size >= SCOPE_LISTS_CACHED) scopeListsCache.clear();
    scopeListsCache.set(key, lists);
  }
  return html`<form method="post" action="/oauth/start" class="picker">
<input type="hidden" name="_csrf" value="${csrf}">
${lists}
<p><button type="submit" class="primary" id="start">Start</button></p>
</form>`;
}

/** The presets and the checkboxes of the picker (nothing per request in them). */
function scopeLists(defaults: string[], offered?: string[]): SafeHtml {
  const checked = new Set(defaults);
  const allowed = offered && offered.length > 0 ? new Set(offered) : undefined;
  const visible = SCOPES.filter((s) => !allowed || allowed.has(s.name) || OIDC_SCOPES.includes(s.name));
  const user = visible.filter((s) => s.kind === 'user');
  const oidc = visible.filter((s) => s.kind === 'oidc');
  const other = visible.filter((s) => s.kind !== 'user' && s.kind !== 'oidc');
  return html`<p class="muted">One click for a common need:</p>
<div class="presets">
${SCOPE_PRESETS.map((p) => html`<button type="submit" name="preset" value="${p.id}" id="preset-${p.id}" title="${p.scopes.join(' ')}">${p.label} <span class="muted">— ${p.why} · <code>${p.scopes.join(' ')}</code></span></button>`)}
</div>
<fieldset><legend>Or pick scopes</legend>
<ul class="scopes">${user.map((s) => scopeItem(s, checked.has(s.name)))}</ul>
</fieldset>
${oidc.length ? html`<fieldset><legend>Identity (OpenID Connect)</legend><ul class="scopes">${oidc.map((s) => scopeItem(s, checked.has(s.name)))}</ul></fieldset>` : ''}
${other.length ? html`<details><summary>Admin and compliance scopes</summary><ul class="scopes">${other.map((s) => scopeItem(s, checked.has(s.name)))}</ul></details>` : ''}`;
}

/** The body of the home page. */
export function homeView(m: HomeModel): SafeHtml {
  const i = m.integration;
  return html`<section class="card">
<h1>Get a Webex token pair</h1>
<p>${m.modeDescription}</p>
${
  i
    ? html`<dl class="kv">
<dt>Redirect URI</dt><dd><code id="redirect-uri">${i.redirectUri}</code> <button type="button" class="small" data-copy="redirect-uri">Copy</button>
<div class="muted">${i.source === 'demo' ? 'The demo integration on the emulator has this redirect URI registered already.' : 'Register exactly this on your integration at developer.webex.com.'}</div></dd>
<dt>Client id</dt><dd><code>${i.clientIdMasked}</code> <span class="muted">(${i.source})</span></dd>
${i.tokensFrom ? html`<dt>Tokens from</dt><dd id="tokens-from">${i.tokensFrom}</dd>` : ''}
</dl>
${m.selfSigned ? html`<p class="notice">This page is served over https with a self-signed certificate generated for localhost; your browser warns about it once.</p>` : ''}`
    : ''
}
</section>
${m.connections.length ? html`<section class="card"><h2>Your connections</h2><ul>${m.connections.map((c) => html`<li><a href="/connections/${c.id}">${c.name}</a> <span class="muted">${c.email}</span>${c.kind && c.kind !== 'integration' ? html` <span class="badge">${c.kind}</span>` : ''}</li>`)}</ul></section>` : ''}
<p class="muted" id="identities-link">Bots and Service Apps: <a href="/identities">add one</a> (their tokens are served like any connection's).</p>
${i ? html`<section class="card"><h2>Choose what the token may do</h2>${scopePicker(m.csrf, m.defaultScopes, i.scopes)}</section>` : ''}
${m.byo ?? ''}`;
}
