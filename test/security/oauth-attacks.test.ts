/**
 * Attacks on the OAuth flow of a real `webex-auth serve` process against the real emulator: state replay, a state
 * from another browser (and login CSRF through the callback), missing state, code replay, redirect-URI mix-up, PKCE
 * downgrade, open redirects through any parameter, and CSRF on every state-changing POST.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';
import { grants, HttpBrowser } from './support.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A GET with the request target sent exactly as given (fetch would resolve `//host` against the base). */
function rawGet(port: number, path: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => ok({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', fail);
    req.end();
  });
}

const browser = () => new HttpBrowser(stack.server.url);
const codeGrants = async () => (await grants(stack.emulator.url)).authorization_code;

describe('OAuth flow attacks', () => {
  it('state replay: a callback URL opened twice exchanges its code once (409 the second time)', async () => {
    const a = browser();
    const callback = await a.authorizeUntilCallback(['spark:all', 'spark:people_read']);
    const before = await codeGrants();
    expect((await a.get(callback)).res.status).toBe(200);
    const again = await a.get(callback);
    expect(again.res.status).toBe(409);
    expect(again.body).toContain('already used');
    expect(await codeGrants()).toBe(before + 1);
  });

  it('a state from another browser (login CSRF) is refused without exchanging the code, which stays usable by its owner', async () => {
    const attacker = browser();
    const victim = browser();
    await victim.get('/home');
    const callback = await attacker.authorizeUntilCallback(['spark:all', 'spark:people_read']);
    const before = await codeGrants();
    const planted = await victim.get(callback);
    expect(planted.res.status).toBe(400);
    expect(planted.res.headers.get('location')).toBeNull();
    expect(await codeGrants()).toBe(before);
    // The victim's session gained no connection: the only pages it may open are its own.
    expect(planted.body).not.toContain('/connections/');
    // Without a session cookie at all, the same.
    const anonymous = await fetch(new URL(callback, stack.server.url), { redirect: 'manual' });
    expect(anonymous.status).toBe(400);
    expect(await codeGrants()).toBe(before);
    // The attacker's pending-authorization cookie planted beside the victim's own flow id (cookie tossing): sealed to
    // the attacker's flow id, it does not open here.
    const pendingCookies = [...attacker.cookies].filter(([name]) => name.startsWith('webex_auth_pending_'));
    expect(pendingCookies).toHaveLength(1);
    const tossed = browser();
    await tossed.get('/home');
    await tossed.post('/oauth/start', { scope: 'spark:all' });
    expect(tossed.cookies.get('webex_auth_flow')).toMatch(/\./);
    expect(tossed.cookies.get('webex_auth_flow')).not.toBe(attacker.cookies.get('webex_auth_flow'));
    for (const [name, value] of pendingCookies) tossed.cookies.set(name, value);
    const withTossed = await tossed.get(callback);
    expect(withTossed.res.status).toBe(400);
    expect(await codeGrants()).toBe(before);
    expect((await attacker.get(callback)).res.status).toBe(200);
  });

  it('missing or empty state is refused before any exchange', async () => {
    const a = browser();
    const callback = new URL(await a.authorizeUntilCallback(['spark:all']), stack.server.url);
    const before = await codeGrants();
    const code = callback.searchParams.get('code') ?? '';
    for (const query of [`code=${code}`, `code=${code}&state=`, `code=${code}&state=${'x'.repeat(43)}`]) {
      const r = await a.get(`/oauth?${query}`);
      expect(r.res.status, query).toBe(400);
    }
    expect(await codeGrants()).toBe(before);
  });

  it('code replay: a used code under a fresh state of the same browser is refused by Webex → 400 page, no connection', async () => {
    const a = browser();
    const first = new URL(await a.authorizeUntilCallback(['spark:all', 'spark:people_read']), stack.server.url);
    expect((await a.get(first.toString())).res.status).toBe(200);
    const second = new URL(await a.authorizeUntilCallback(['spark:all', 'spark:people_read']), stack.server.url);
    const before = await codeGrants();
    second.searchParams.set('code', first.searchParams.get('code') ?? '');
    const replay = await a.get(second.toString());
    expect(replay.res.status).toBe(400);
    expect(replay.res.headers.get('location')).toBeNull();
    expect(await codeGrants()).toBe(before);
  });

  it('redirect-URI mix-up: Webex (the emulator) refuses an unregistered redirect_uri without redirecting', async () => {
    const a = browser();
    await a.get('/home');
    const start = await a.post('/oauth/start', { scope: 'spark:all' });
    const authorize = new URL(start.res.headers.get('location') ?? '');
    for (const evil of ['https://evil.example/oauth', `${stack.redirectUri}/../evil`, `${stack.redirectUri}x`]) {
      authorize.searchParams.set('redirect_uri', evil);
      const res = await fetch(authorize, { redirect: 'manual' });
      expect(res.status, evil).toBe(400);
      expect(res.headers.get('location'), evil).toBeNull();
    }
  });

  it('PKCE: every authorize URL carries an S256 challenge; stripping or replacing it gets the code refused', async () => {
    const a = browser();
    await a.get('/home');
    for (const tamper of ['strip', 'plain'] as const) {
      const start = await a.post('/oauth/start', { scope: 'spark:all' });
      const authorize = new URL(start.res.headers.get('location') ?? '');
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      if (tamper === 'strip') {
        authorize.searchParams.delete('code_challenge');
        authorize.searchParams.delete('code_challenge_method');
      } else {
        authorize.searchParams.set('code_challenge_method', 'plain');
        authorize.searchParams.set('code_challenge', 'attacker-known-verifier-attacker-known-verifier');
      }
      const consent = await fetch(authorize, { redirect: 'manual' });
      const callback = consent.headers.get('location');
      if (!callback) continue; // refused at authorize: also fine
      const before = await codeGrants();
      const r = await a.get(callback);
      expect(r.res.status, tamper).toBe(400);
      expect(await codeGrants(), tamper).toBe(before);
    }
  });

  it('no parameter on any page turns the server into an open redirect', async () => {
    const a = browser();
    await a.get('/home');
    const evil = 'https://evil.example/x';
    const params = ['next', 'return_to', 'returnTo', 'redirect', 'redirect_uri', 'url', 'continue', 'back'];
    const query = params.map((p) => `${p}=${encodeURIComponent(evil)}`).join('&');
    const targets = [
      `/?${query}`,
      `/home?${query}`,
      `/oauth?${query}`,
      `/connections/nope?${query}`,
      `/space?${query}`,
    ];
    for (const t of targets) {
      const r = await a.get(t);
      const location = r.res.headers.get('location');
      if (location) expect(new URL(location, stack.server.url).origin, t).toBe(stack.server.url);
    }
    // Request targets that a path-normalising redirect could turn into a protocol-relative URL.
    for (const raw of ['//evil.example/', '/%2F%2Fevil.example/', '/\\evil.example/', '/home/..//evil.example']) {
      const { status, location } = await rawGet(stack.server.port, raw);
      expect(status, raw).toBeLessThan(500);
      if (location) expect(new URL(location, stack.server.url).origin, raw).toBe(stack.server.url);
    }
    const start = await a.post('/oauth/start', {
      scope: 'spark:all',
      redirect_uri: evil,
      api_base: 'https://evil.example/v1',
      next: evil,
    });
    expect(new URL(start.res.headers.get('location') ?? '').origin).toBe(new URL(stack.emulator.url).origin);
    expect(new URL(start.res.headers.get('location') ?? '').searchParams.get('redirect_uri')).toBe(stack.redirectUri);
  });

  it('CSRF: every state-changing POST needs this session’s token (none, another session’s → 403, nothing changes)', async () => {
    const a = browser();
    const connectionPath = await a.connect(['spark:all', 'spark:people_read']);
    const id = connectionPath.split('/').pop() ?? '';
    // A flow makes no session; a Try-it result (kept for the next view of the page) does.
    expect((await a.post(`${connectionPath}/try`, { endpoint: 'people-me' })).res.status).toBe(303);
    await a.get(connectionPath);
    // b: a token issued before it had a session (anonymous), then one bound to the session its Try-it made.
    const b = browser();
    await b.get('/home');
    const anonymousToken = b.csrf;
    const bPath = await b.connect(['spark:all', 'spark:people_read']);
    expect((await b.post(`${bPath}/try`, { endpoint: 'people-me' })).res.status).toBe(303);
    await b.get('/home');
    const otherSessionToken = b.csrf;
    expect(otherSessionToken).not.toBe(anonymousToken);
    const refreshesBefore = (await grants(stack.emulator.url)).refresh_token;
    const form = { scope: 'spark:all', text: 'hi', clientId: 'C1', clientSecret: 's', endpoint: 'people-me' };
    const posts = [
      '/oauth/start',
      '/configure',
      '/configure/paste',
      '/configure/forget',
      `/connections/${id}/refresh`,
      `/connections/${id}/try`,
      `/connections/${id}/delete`,
      '/space/messages',
      `/admin/connections/${id}/refresh`,
      `/admin/connections/${id}/delete`,
    ];
    for (const path of posts) {
      for (const csrf of [null, otherSessionToken, '', `${a.csrf}x`]) {
        const r = await a.post(path, form, csrf);
        expect(r.res.status, `${path} csrf=${csrf}`).toBe(403);
      }
      // What another site can make a browser send: this browser's cookie with a token of this site's public page
      // (or even this session's own token), but never a same-origin request.
      for (const csrf of [anonymousToken, a.csrf]) {
        for (const headers of [
          { 'sec-fetch-site': 'cross-site' },
          { 'sec-fetch-site': 'same-site' },
          { origin: 'https://evil.example' },
        ] as Record<string, string>[]) {
          const body = new URLSearchParams({ ...form, _csrf: csrf });
          const r = await a.request(path, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
            body: body.toString(),
          });
          expect(r.res.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
        }
      }
      // A JSON body (what a cross-site fetch could send) is refused the same way.
      const json = await a.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ _csrf: otherSessionToken }),
      });
      expect([403, 415], path).toContain(json.res.status);
    }
    expect((await grants(stack.emulator.url)).refresh_token).toBe(refreshesBefore);
    expect((await a.get(connectionPath)).res.status).toBe(200);
  });

  it('flow cookie flags: none for a GET; HttpOnly, SameSite=Lax, Path=/, Max-Age, signed (the flow id) or sealed (its pending authorization) once a flow starts; no token in any cookie', async () => {
    const r = await fetch(`${stack.server.url}/home`);
    expect(r.headers.getSetCookie()).toEqual([]);
    await r.body?.cancel();
    const a = browser();
    await a.get('/home');
    expect(a.cookies.size).toBe(0);
    // A browser without a session gets a flow id, and its pending authorization sealed to it in a cookie of its own:
    // no session, and no row.
    const start = await a.post('/oauth/start', { scope: ['spark:all', 'spark:people_read'] });
    expect(start.res.status).toBe(303);
    const cookies = start.res.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    const [cookie, pendingSet] = cookies as [string, string];
    expect(cookie).toMatch(/^webex_auth_flow=/);
    expect(pendingSet).toMatch(/^webex_auth_pending_[0-9a-f]{16}=/);
    for (const c of cookies) {
      expect(c).toMatch(/; HttpOnly/i);
      expect(c).toMatch(/; SameSite=Lax/i);
      expect(c).toMatch(/; Path=\//);
      // Each lives as long as the authorization it holds (15 minutes).
      expect(c).toMatch(/; Max-Age=900(;|$)/);
    }
    const [name, value] = [...a.cookies].find(([n]) => n === 'webex_auth_flow') as [string, string];
    const [pendingName, pendingValue] = [...a.cookies].find(([n]) => n !== name) as [string, string];
    // A random id and its signature, nothing else.
    expect(value).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9%+/=_-]+$/);
    expect(value.length).toBeLessThan(200);
    // The pending authorization: sealed (the state, verifier and scopes are nowhere in clear), under 1 KB.
    const state = new URL(start.res.headers.get('location') ?? '').searchParams.get('state') ?? '';
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeURIComponent(pendingValue)).toMatch(/^v1:[^:]+(:[A-Za-z0-9_-]+){4}$/);
    expect(pendingValue).not.toContain(state);
    expect(pendingValue).not.toContain('spark');
    expect(pendingValue.length).toBeLessThan(1024);

    // Signed: a tampered flow id holds no flow — the flow started under the real one cannot be finished with it, even
    // with its pending cookie (no code exchange); the real cookies still finish it.
    const consent = await a.request(start.res.headers.get('location') ?? '');
    const callback = consent.res.headers.get('location') ?? '';
    expect(callback).toContain('state=');
    const before = await codeGrants();
    const forged = await fetch(new URL(callback, stack.server.url), {
      headers: {
        cookie: `${name}=${value.slice(0, -2)}${value.endsWith('xx') ? 'yy' : 'xx'}; ${pendingName}=${pendingValue}`,
      },
      redirect: 'manual',
    });
    expect(forged.status).toBe(400);
    await forged.body?.cancel();
    expect(await codeGrants()).toBe(before);
    const page = await a.get(callback);
    expect(page.res.status).toBe(200);
    expect(await codeGrants()).toBe(before + 1);
    // The answer is the connection page; it made no session, dropped the pending cookie, and no cookie holds token
    // material.
    expect(page.res.headers.get('content-location')).toMatch(/^\/connections\//);
    expect([...a.cookies.keys()]).toEqual([name]);
    const tokens = [...page.body.matchAll(/data-value="([^"]{20,})"/g)].map((m) => m[1] as string);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    for (const [k, v] of a.cookies) {
      expect(v, k).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9%+/=_-]+$/);
      for (const t of tokens) expect(decodeURIComponent(v), k).not.toContain(t);
    }
  });

  it('session cookie flags: HttpOnly, SameSite=Lax, Path=/, signed; a tampered one is cleared; rotated at a completed authorization', async () => {
    // A Try-it result is kept in a session: the first state this browser must keep besides a flow.
    const a = browser();
    const connectionPath = await a.connect(['spark:all', 'spark:people_read']);
    const tried = await a.post(`${connectionPath}/try`, { endpoint: 'people-me' });
    expect(tried.res.status).toBe(303);
    const cookies = tried.res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const [cookie] = cookies as [string];
    expect(cookie).toMatch(/^webex_auth_session=/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//);
    const value = a.cookies.get('webex_auth_session') ?? '';
    expect(value).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9%+/=_-]+$/);
    // Signed: a tampered value is no session, and the server clears it.
    const forged = await fetch(new URL(connectionPath, stack.server.url), {
      headers: { cookie: `webex_auth_session=${value.slice(0, -2)}${value.endsWith('xx') ? 'yy' : 'xx'}` },
      redirect: 'manual',
    });
    await forged.body?.cancel();
    const cleared = forged.headers.getSetCookie();
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatch(/^webex_auth_session=;/);
    expect(cleared[0]).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/i);
    // A flow started in the session is kept under it, and its completion gives the session a new id.
    const callback = await a.authorizeUntilCallback(['spark:all', 'spark:people_read']);
    expect(a.cookies.get('webex_auth_session')).toBe(value);
    const done = await a.get(callback);
    expect(done.res.status).toBe(200);
    expect(a.cookies.get('webex_auth_session')).not.toBe(value);
    expect(a.cookies.get('webex_auth_session')).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9%+/=_-]+$/);
  });
});
