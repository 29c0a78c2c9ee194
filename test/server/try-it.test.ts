/**
 * "Try it" on the connection page, against the real emulator (demo mode, port 0) and the real vault: the common read
 * calls of the granted scopes, the others greyed with the scope they need (and explained when tried anyway), and only
 * an endpoint id from the form.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRY_CALL_IDS } from '../../src/server/try-calls.js';
import { Browser } from './support/app.js';
import { type DemoApp, startDemoApp } from './support/demo-app.js';
import { consentAs } from './support/emulator-person.js';

let running: DemoApp;
let app: FastifyInstance;

beforeAll(async () => {
  running = await startDemoApp('try');
  app = running.app;
});
afterAll(async () => running?.close());

/** Authorizes `scopes` as `email` through the web app and the emulator's consent page; returns the connection page path. */
async function connect(scopes: string[], email: string): Promise<{ b: Browser; location: string }> {
  const b = new Browser(app);
  await b.get('/');
  const started = await b.post('/oauth/start', { scope: scopes });
  expect(started.statusCode, started.body).toBe(303);
  const callback = await consentAs(String(started.headers.location), email);
  const done = await b.get(callback.pathname + callback.search);
  expect(done.statusCode, done.body.slice(0, 300)).toBe(200);
  return { b, location: String(done.headers['content-location']) };
}

/** Tries `endpoint` and returns the page that shows the result, with its HTTP status. */
async function tryIt(b: Browser, location: string, form: Record<string, string | string[]>) {
  const res = await b.post(`${location}/try`, form);
  expect(res.statusCode, res.body.slice(0, 400)).toBe(303);
  expect(res.headers.location).toBe(`${location}#try`);
  const body = (await b.get(location)).body;
  const status = Number(/id="try-status">HTTP (\d+)</.exec(body)?.[1]);
  const label = /<div class="try-result" id="try-result">\s*<p><strong>([^<]*)<\/strong>/.exec(body)?.[1];
  return { body, status, label };
}

/** The Try-it entry of `id` on a page: its button, whether it is greyed, and its note. */
function entry(page: string, id: string) {
  const li = new RegExp(`<li class="try-call( unavailable)?" data-endpoint="${id}">([\\s\\S]*?)</li>`).exec(page);
  expect(li, id).not.toBeNull();
  const note =
    /<span class="muted" id="try-[^"]+-note">([\s\S]*?)<\/span><\/li>|<span class="muted" id="try-[^"]+-note">([\s\S]*)$/.exec(
      li?.[2] ?? '',
    );
  return {
    unavailable: li?.[1] === ' unavailable',
    disabled: /<button[^>]* disabled/.test(li?.[2] ?? ''),
    note: (note?.[1] ?? note?.[2] ?? '').replace(/<[^>]+>/g, ''),
  };
}

describe('Try it', () => {
  it('offers the common read calls of the granted scopes, and each answers from the emulator', async () => {
    const { b, location } = await connect(
      ['spark:people_read', 'spark:rooms_read', 'spark:memberships_read', 'spark:messages_read', 'openid'],
      'alice@example.com',
    );
    const page = (await b.get(location)).body;
    for (const id of TRY_CALL_IDS) {
      const e = entry(page, id);
      expect(e.unavailable, id).toBe(false);
      expect(e.disabled, id).toBe(false);
      expect(e.note, id).not.toContain('needs');
    }
    const me = await tryIt(b, location, { endpoint: 'people-me' });
    expect(me.status).toBe(200);
    expect(me.body).toContain('Alice Example');
    const byEmail = await tryIt(b, location, { endpoint: 'people-email' });
    expect(byEmail.status).toBe(200);
    expect(byEmail.label).toBe('GET /people?email=alice@example.com');
    expect(byEmail.body).toContain('&quot;displayName&quot;: &quot;Alice Example&quot;');
    const userinfo = await tryIt(b, location, { endpoint: 'userinfo' });
    expect(userinfo.status).toBe(200);
    expect(userinfo.body).toContain('&quot;sub&quot;');
    const rooms = await tryIt(b, location, { endpoint: 'rooms' });
    expect(rooms.status).toBe(200);
    expect(rooms.body).toContain('Demo space');
    const direct = await tryIt(b, location, { endpoint: 'rooms-direct' });
    expect(direct.status).toBe(200);
    expect(direct.body).not.toContain('Demo space');
    const memberships = await tryIt(b, location, { endpoint: 'memberships' });
    expect(memberships.status).toBe(200);
    expect(memberships.body).toContain('&quot;roomId&quot;');
    const messages = await tryIt(b, location, { endpoint: 'messages' });
    expect(messages.status).toBe(200);
    expect(messages.label).toBe('GET /messages in your most recent space');
    expect(messages.body).toContain('Hello from the demo bot');
    const webhooks = await tryIt(b, location, { endpoint: 'webhooks' });
    expect(webhooks.status).toBe(200);
    expect(webhooks.body).toContain('&quot;items&quot;');
  });

  it('greys what the scopes do not allow, names the scope, and explains the refusal when tried', async () => {
    // The out-of-office bot's grant: read messages, and openid to know the person.
    const { b, location } = await connect(['spark:messages_read', 'openid'], 'bob@example.com');
    const page = (await b.get(location)).body;
    expect(entry(page, 'people-me')).toMatchObject({ unavailable: true, note: 'needs spark:people_read' });
    expect(entry(page, 'rooms')).toMatchObject({ unavailable: true, note: 'needs spark:rooms_read' });
    expect(entry(page, 'memberships')).toMatchObject({ unavailable: true, note: 'needs spark:memberships_read' });
    // Messages need a room id, found with GET /rooms first: spark:messages_read alone is not enough.
    expect(entry(page, 'messages')).toMatchObject({ unavailable: true, note: 'needs spark:rooms_read' });
    expect(entry(page, 'people-email')).toMatchObject({ unavailable: true, disabled: true });
    expect(entry(page, 'userinfo').unavailable).toBe(false);
    expect(entry(page, 'webhooks').unavailable).toBe(false);

    const me = await tryIt(b, location, { endpoint: 'people-me' });
    expect(me.status).toBe(403);
    expect(me.body).toContain('Missing scope');
    expect(me.body).toContain('Authorize again with spark:people_read');
    const messages = await tryIt(b, location, { endpoint: 'messages' });
    expect(messages.status).toBe(403);
    expect(messages.label).toContain('GET /rooms?sortBy=lastactivity&amp;max=1');
    expect(messages.body).toContain('Authorize again with spark:rooms_read');
    const webhooks = await tryIt(b, location, { endpoint: 'webhooks' });
    expect(webhooks.status).toBe(200);
    const userinfo = await tryIt(b, location, { endpoint: 'userinfo' });
    expect(userinfo.status).toBe(200);

    const noEmail = await b.post(`${location}/try`, { endpoint: 'people-email' });
    expect(noEmail.statusCode).toBe(400);
    expect(noEmail.body).toContain('Email not known');
  });

  it('takes nothing from the form but a known endpoint id', async () => {
    const { b, location } = await connect(['spark:rooms_read', 'openid'], 'alice@example.com');
    // Extra fields are ignored: the call is the table's row, not a path or query from the form.
    const rooms = await tryIt(b, location, { endpoint: 'rooms', path: '/people/me', query: 'max=1000', roomId: 'x' });
    expect(rooms.label).toBe('GET /rooms');
    expect(rooms.status).toBe(200);
    for (const endpoint of ['../admin', 'people-me?x=1', '', 'constructor', 'toString', '/people/me']) {
      const res = await b.post(`${location}/try`, { endpoint });
      expect(res.statusCode, endpoint).toBe(400);
      expect(res.body, endpoint).toContain('Unknown call');
    }
    expect((await b.post(`${location}/try`, { endpoint: ['rooms', 'people-me'] })).statusCode).toBe(400);
    expect((await b.post(`${location}/try`, {})).statusCode).toBe(400);
  });
});
