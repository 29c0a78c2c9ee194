/** The authorize page, the consent form, HTML escaping of every reflected value, and what other clients rely on. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SEED } from '../../src/emulator/index.js';
import { authorizeUrl, CREDS, type Emu, IT, REDIRECT, start, token } from './helpers.js';

let emu: Emu;
beforeAll(async () => {
  emu = await start();
});
afterAll(() => emu.close());

const XSS = '"><script>alert(1)</script>';

async function consent(url: string) {
  const r = await fetch(url, { redirect: 'manual' });
  const html = await r.text();
  return { status: r.status, html, requestId: /name="request" value="([^"]+)"/.exec(html)?.[1] as string };
}

function submit(fields: Record<string, string>, cookie?: string) {
  return fetch(`${emu.apiBase}/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields),
  });
}

describe('authorize', () => {
  it('escapes every reflected value on error pages', async () => {
    for (const url of [authorizeUrl(emu, { client_id: XSS }), authorizeUrl(emu, { redirect_uri: `http://x/${XSS}` })]) {
      const r = await fetch(url, { redirect: 'manual' });
      const html = await r.text();
      expect(r.status).toBe(400);
      expect(html).not.toContain('<script>');
      expect(html).toContain('&lt;script&gt;');
    }
  });

  it('escapes login_hint and the typed email on the consent page', async () => {
    const c = await consent(authorizeUrl(emu, { login_hint: XSS }));
    expect(c.status).toBe(200);
    expect(c.html).not.toContain('<script>');
    expect(c.html).toContain('value="&quot;&gt;&lt;script&gt;');
    const bad = await submit({ request: c.requestId, email: XSS, decision: 'accept' });
    const html = await bad.text();
    expect(bad.status).toBe(400);
    expect(html).not.toContain('<script>');
    expect(html).toContain('No Webex account');
  });

  it('lists the seeded people (name + email) as buttons that accept as them, next to the unchanged form', async () => {
    const c = await consent(authorizeUrl(emu));
    expect(c.status).toBe(200);
    // The sign-in form is unchanged and still the page's first form.
    const first = /<form\b[\s\S]*?<\/form>/.exec(c.html)?.[0] ?? '';
    expect(first).toContain('<input id="email" type="email" name="email" autocomplete="username" value="" required>');
    expect(first).toContain('<button type="submit" name="decision" value="accept">Accept</button>');
    expect(first).toContain('<button type="submit" name="decision" value="decline" formnovalidate>Decline</button>');
    expect(c.html).toContain(
      '<button type="submit" name="email" value="alice@example.com">Alice Example (alice@example.com)</button>',
    );
    expect(c.html).toContain('Bob Example (bob@example.com)');
    expect(c.html).not.toContain('demo-bot@webex.bot'); // bots cannot sign in
    expect(c.html).not.toContain('<script');
    // What a click on Bob's button submits: his form's hidden fields and the button's email.
    const bobForm = /<form\b(?:(?!<\/form>)[\s\S])*bob@example\.com[\s\S]*?<\/form>/.exec(
      c.html.slice(c.html.indexOf('</form>') + 7),
    )?.[0];
    expect(bobForm).toBeTruthy();
    const fields = new URLSearchParams();
    for (const input of bobForm?.match(/<input\b[^>]*>/g) ?? []) {
      const name = /name="([^"]*)"/.exec(input)?.[1];
      if (name) fields.set(name, /value="([^"]*)"/.exec(input)?.[1] ?? '');
    }
    fields.set('email', 'bob@example.com');
    expect(Object.fromEntries(fields)).toEqual({ request: c.requestId, decision: 'accept', email: 'bob@example.com' });
    const r = await submit(Object.fromEntries(fields));
    expect(r.status).toBe(302);
    expect(new URL(String(r.headers.get('location'))).searchParams.get('code')).toBeTruthy();
  });

  it('escapes seeded names and emails on the sign-in page', async () => {
    const other = await start({
      seed: { ...DEMO_SEED, users: [{ email: 'eve@example.com', displayName: XSS }, ...DEMO_SEED.users] },
    });
    try {
      const c = await consent(authorizeUrl(other));
      expect(c.status).toBe(200);
      expect(c.html).not.toContain('<script>');
      expect(c.html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; (eve@example.com)');
    } finally {
      await other.close();
    }
  });

  it('lists the requested scopes in words', async () => {
    const c = await consent(authorizeUrl(emu, { scope: 'spark:rooms_read openid', nonce: 'n' }));
    expect(c.html).toContain('List the titles of the spaces you are in');
    expect(c.html).toContain('Sign you in with Webex');
  });

  it('accepts, echoes any state untouched, and keeps the redirect URI exactly', async () => {
    const state = 'a b+c/d?e=f&g=%20ü';
    const c = await consent(authorizeUrl(emu, { state }));
    const r = await submit({ request: c.requestId, email: 'alice@example.com', decision: 'accept' });
    expect(r.status).toBe(302);
    const loc = new URL(r.headers.get('location') as string);
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
    expect(loc.searchParams.get('state')).toBe(state);
    expect(loc.searchParams.get('code')).toBeTruthy();
    // The pending request is single use.
    expect((await submit({ request: c.requestId, email: 'alice@example.com', decision: 'accept' })).status).toBe(400);
  });

  it('decodes + and %20 between scopes; PKCE is optional; a fixed state is fine', async () => {
    const plus = `${emu.apiBase}/authorize?client_id=${IT.clientId}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=spark%3Apeople_read+spark%3Arooms_read&state=fixed`;
    const c = await consent(plus);
    expect(c.status).toBe(200);
    const r = await submit({ request: c.requestId, email: 'bob@example.com', decision: 'accept' });
    const code = new URL(r.headers.get('location') as string).searchParams.get('code') as string;
    const t = await token(emu, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...CREDS });
    expect(t.body.scope).toBe('spark:people_read spark:rooms_read');
  });

  it('accepts every registered redirect URI (any port/path on localhost/127.0.0.1) and keeps their query', async () => {
    for (const uri of ['http://localhost:8080/webex-auth.html', 'http://127.0.0.1:8080/oauth']) {
      const c = await consent(authorizeUrl(emu, { redirect_uri: uri }));
      const r = await submit({ request: c.requestId, email: 'alice@example.com', decision: 'accept' });
      expect((r.headers.get('location') as string).startsWith(`${uri}?code=`)).toBe(true);
    }
  });

  it('prompt=none works after a login in the same browser (session cookie), login_required without', async () => {
    const c = await consent(authorizeUrl(emu));
    const r = await submit({ request: c.requestId, email: 'alice@example.com', decision: 'accept' });
    const cookie = (r.headers.get('set-cookie') as string).split(';')[0] as string;
    const silent = await fetch(authorizeUrl(emu, { prompt: 'none' }), { redirect: 'manual', headers: { cookie } });
    expect(new URL(silent.headers.get('location') as string).searchParams.get('code')).toBeTruthy();
    const none = await fetch(authorizeUrl(emu, { prompt: 'none' }), { redirect: 'manual' });
    expect(new URL(none.headers.get('location') as string).searchParams.get('error')).toBe('login_required');
  });

  it('redirects invalid_request for openid without nonce, bad PKCE, unsupported response_type', async () => {
    const err = async (params: Record<string, string>) => {
      const r = await fetch(authorizeUrl(emu, params), { redirect: 'manual' });
      expect(r.status).toBe(302);
      const l = new URL(r.headers.get('location') as string);
      expect(l.searchParams.get('state')).toBe('st-123');
      return l.searchParams.get('error');
    };
    expect(await err({ scope: 'openid' })).toBe('invalid_request');
    expect(await err({ code_challenge: 'short' })).toBe('invalid_request');
    expect(await err({ code_challenge: 'a'.repeat(43), code_challenge_method: 'S512' })).toBe('invalid_request');
    expect(await err({ response_type: 'token' })).toBe('unsupported_response_type');
    expect(await err({ scope: '' })).toBe('invalid_scope');
    expect(await err({ scope: 'spark:all', state: 'st-123', max_age: 'soon' })).toBe('invalid_request');
  });

  it('omitting redirect_uri works only when one URI is registered', async () => {
    const r = await fetch(authorizeUrl(emu, { redirect_uri: undefined }), { redirect: 'manual' });
    expect(r.status).toBe(400); // the demo integration registers three
  });
});
