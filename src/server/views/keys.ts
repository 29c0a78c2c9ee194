/**
 * The keys page `/keys`: the broker API keys the viewer may see (name, prefix, connections, permissions, created,
 * last used, revoke; legacy keys with a one-click narrow to `token`), a form to make one, and the page that shows a
 * new key once (with a copy button, a `curl` line and a small Node bot). Everything goes through the `html` helper.
 */
import { type ApiKeyRecord, KEY_PERMISSIONS, type KeyPermission } from '../../vault/types.js';
import { html, type SafeHtml } from '../html.js';

/** What each permission allows, as the form explains it. */
export const PERMISSION_MEANINGS: Record<KeyPermission, string> = {
  token: 'read a fresh access token',
  refresh: 'force a refresh (limited per connection)',
  proxy: 'call Webex through the broker',
  delete: 'delete the connection',
  guests: 'mint guest tokens through a Service App',
};

/** A connection as the keys page names it. */
export interface KeyConnection {
  id: string;
  /** The person's display name. */
  name: string;
  email: string;
  /** The owner's label (admins only: an email or "local operator"). */
  owner?: string | undefined;
}

/** What the form last held, to show it again after a refusal. */
export interface KeyFormValues {
  name: string;
  connectionIds: string[];
  permissions: KeyPermission[];
  paths: string;
  methods: string;
}

/** What the keys page shows. */
export interface KeysModel {
  csrf: string;
  keys: ApiKeyRecord[];
  /** The connections the viewer may make keys for (and that name the keys' connections). */
  connections: KeyConnection[];
  /** Admins see every key, with its owner. */
  admin: boolean;
  /** Owner id → label (admins). */
  owners: Map<string, string>;
  /** A short status line after an action. */
  notice?: string | undefined;
  /** Why the last form was refused. */
  error?: string | undefined;
  form?: KeyFormValues | undefined;
}

const fmt = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) : undefined);

function connectionNames(key: ApiKeyRecord, byId: Map<string, KeyConnection>): SafeHtml[] {
  return key.connectionIds.map((id) => {
    const c = byId.get(id);
    return c
      ? html`<span class="badge ok" title="${c.email}">${c.name}</span> `
      : html`<span class="badge missing" title="${id}">deleted connection</span> `;
  });
}

function keyRow(key: ApiKeyRecord, m: KeysModel, byId: Map<string, KeyConnection>): SafeHtml {
  const base = `/keys/${encodeURIComponent(key.id)}`;
  const csrf = html`<input type="hidden" name="_csrf" value="${m.csrf}">`;
  return html`<section class="card key" id="key-${key.id}" data-key-id="${key.id}">
<h2>${key.name} <code class="muted">${key.prefix}…</code>${key.legacy ? html` <span class="badge missing">legacy</span>` : ''}</h2>
<dl class="kv">
${m.admin ? html`<dt>Owner</dt><dd class="owner">${m.owners.get(key.ownerId) ?? key.ownerId}</dd>` : ''}
<dt>Connections</dt><dd class="connections">${connectionNames(key, byId)}</dd>
<dt>Permissions</dt><dd class="permissions">${key.permissions.map((p) => html`<span class="badge ok">${p}</span> `)}${
    key.paths?.length ? html` <span class="muted">paths: ${key.paths.join(', ')}</span>` : ''
  }${key.methods?.length ? html` <span class="muted">methods: ${key.methods.join(', ')}</span>` : ''}${
    key.legacy
      ? html`<div class="muted">Made before permissions existed: it keeps the powers keys had then.</div>
<form method="post" action="${base}/narrow" class="inline">${csrf}<button type="submit" class="small narrow">Narrow to token</button></form>`
      : ''
  }</dd>
<dt>Created</dt><dd>${fmt(key.createdAt)}</dd>
<dt>Last used</dt><dd class="last-used">${fmt(key.lastUsedAt) ?? 'never'}</dd>
</dl>
<form method="post" action="${base}/revoke" class="inline">${csrf}<button type="submit" class="danger revoke">Revoke</button></form>
</section>`;
}

function createForm(m: KeysModel): SafeHtml {
  const f = m.form;
  const chosen = new Set(f?.connectionIds ?? (m.connections.length === 1 ? [m.connections[0]?.id] : []));
  const permissions = new Set<KeyPermission>(f?.permissions ?? ['token']);
  if (!m.connections.length) {
    return html`<section class="card" id="create"><h2>Make a key</h2>
<p class="muted">A key reads the tokens of your connections: <a href="/">authorize one</a> first.</p></section>`;
  }
  return html`<section class="card" id="create"><h2>Make a key</h2>
${m.error ? html`<p class="notice" role="alert" id="key-error">${m.error}</p>` : ''}
<form method="post" action="/keys">
<input type="hidden" name="_csrf" value="${m.csrf}">
<label for="key-name">Name</label>
<input type="text" id="key-name" name="name" maxlength="100" required value="${f?.name ?? ''}" placeholder="out-of-office bot">
<fieldset><legend>Connections</legend>
${m.admin ? html`<p class="muted">A key belongs to one owner: pick connections of one owner only.</p>` : ''}
<ul class="scopes">${m.connections.map(
    (
      c,
    ) => html`<li><label><input type="checkbox" name="connection" value="${c.id}"${chosen.has(c.id) ? html` checked` : ''}>
<span>${c.name}<span class="meaning">${c.email}${c.owner ? html` · owner ${c.owner}` : ''}</span></span></label></li>`,
  )}</ul>
</fieldset>
<fieldset><legend>Permissions</legend>
<ul class="scopes">${KEY_PERMISSIONS.map(
    (
      p,
    ) => html`<li><label><input type="checkbox" name="permission" value="${p}"${permissions.has(p) ? html` checked` : ''}>
<span><code>${p}</code><span class="meaning">${PERMISSION_MEANINGS[p]}</span></span></label></li>`,
  )}</ul>
<details${f?.paths || f?.methods ? html` open` : ''}><summary>Limit <code>proxy</code> (optional)</summary>
<label for="key-paths">Paths it may call <span class="muted">(e.g. <code>rooms messages</code>; empty: any)</span></label>
<input type="text" id="key-paths" name="paths" maxlength="1000" value="${f?.paths ?? ''}">
<label for="key-methods">Methods it may use <span class="muted">(e.g. <code>GET POST</code>; empty: any)</span></label>
<input type="text" id="key-methods" name="methods" maxlength="100" value="${f?.methods ?? ''}">
</details>
</fieldset>
<p><button type="submit" class="primary" id="create-key">Make key</button></p>
</form></section>`;
}

/** The body of `/keys`. */
export function keysView(m: KeysModel): SafeHtml {
  const byId = new Map(m.connections.map((c) => [c.id, c]));
  return html`${m.notice ? html`<p class="notice" role="status" id="key-notice">${m.notice}</p>` : ''}
<section class="card">
<h1>API keys</h1>
<p>A broker API key lets a bot or script read fresh access tokens of chosen connections
(<code>Authorization: Bearer wak_…</code>), without ever seeing the refresh token.
${m.admin ? 'As an admin you see every key.' : 'You see the keys of your connections.'}</p>
</section>
${m.keys.length ? html`<div id="keys">${m.keys.map((k) => keyRow(k, m, byId))}</div>` : html`<p class="muted" id="no-keys">No keys yet.</p>`}
${createForm(m)}`;
}

/** What the page of a new key shows. */
export interface KeyCreatedModel {
  key: string;
  record: ApiKeyRecord;
  /** Where the broker answers (PUBLIC_URL, else this request's origin). */
  origin: string;
  /** The Webex API base bots call (`https://webexapis.com/v1`, or the emulator's). */
  apiBase: string;
}

/**
 * A short Node bot that asks the broker for a fresh token before each Webex call. The key comes from `BROKER_API_KEY`,
 * the name examples/out-of-office-bot reads.
 */
export function botSnippet(origin: string, connectionId: string, apiBase: string): string {
  return `// bot.mjs — BROKER_API_KEY=wak_… node bot.mjs   (Node 18+)
const BROKER = ${JSON.stringify(origin)};
const CONNECTION = ${JSON.stringify(connectionId)};

// A fresh access token before each Webex call: the broker refreshes it when needed.
async function webexToken() {
  const r = await fetch(\`\${BROKER}/api/v1/connections/\${CONNECTION}/token\`, {
    headers: { authorization: \`Bearer \${process.env.BROKER_API_KEY}\` },
  });
  if (!r.ok) throw new Error(\`broker answered \${r.status}\`);
  return (await r.json()).access_token;
}

const me = await fetch(${JSON.stringify(`${apiBase.replace(/\/+$/, '')}/people/me`)}, {
  headers: { authorization: \`Bearer \${await webexToken()}\` },
});
console.log((await me.json()).displayName);
`;
}

/** The page that shows a new key, once. */
export function keyCreatedView(m: KeyCreatedModel): SafeHtml {
  const first = m.record.connectionIds[0] ?? '';
  const curl = `curl -H "Authorization: Bearer ${m.key}" "${m.origin}/api/v1/connections/${first}/token"`;
  const canRead = m.record.permissions.includes('token');
  return html`<section class="card" id="new-key-card">
<h1>Key “${m.record.name}” made</h1>
<p class="notice" role="status">Copy it now: this is the only time it is shown. Only its hash is stored.</p>
<dl class="kv">
<dt>Key</dt><dd><code class="secret" id="new-key" data-value="${m.key}">${m.key}</code> <button type="button" class="small" id="copy-key" data-copy="new-key">Copy</button></dd>
<dt>Permissions</dt><dd>${m.record.permissions.map((p) => html`<span class="badge ok">${p}</span> `)}</dd>
</dl>
${
  canRead
    ? html`<h2>Try it</h2>
<pre><code id="curl-line" data-value="${curl}">${curl}</code></pre>
<p><button type="button" class="small" data-copy="curl-line">Copy the curl line</button></p>
<h2>A bot</h2>
<pre><code id="bot-snippet">${botSnippet(m.origin, first, m.apiBase)}</code></pre>
<p><button type="button" class="small" data-copy="bot-snippet">Copy the bot</button></p>`
    : html`<p class="muted">This key may not read tokens (no <code>token</code> permission).</p>`
}
<p><a href="/keys">Back to the keys</a></p>
</section>`;
}
