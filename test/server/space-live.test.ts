/**
 * The live space demo against a real server (demo mode, listening on loopback) and the real emulator: the event stream
 * receives what another person posts (by webhook, and by polling where no webhook can reach the server), messages
 * render from markdown with raw HTML and non-http(s) links inert, the webhook receiver checks signatures, the return
 * path after authorizing is validated, and the stream is bounded and refused without access.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SEED } from '../../src/emulator/index.js';
import { returnPath } from '../../src/server/access/return-path.js';
import { buildApp, listen } from '../../src/server/app.js';
import { type Demo, startDemo } from '../../src/server/demo.js';
import { SPACE_SCOPES } from '../../src/server/routes/space.js';
import { renderMessageBody } from '../../src/server/space/markdown.js';
import { ensureSpaceWebhook, SPACE_WEBHOOK_NAME, validSparkSignature } from '../../src/server/space/webhooks.js';
import { generateKeyEntry, openVault } from '../../src/vault/index.js';
import { WebexClient } from '../../src/webex/client.js';
import { Browser, testApp, testConfig } from './support/app.js';
import { consentAs as consent, emulatorToken } from './support/emulator-person.js';

let dir: string;
let demo: Demo;
let app: FastifyInstance;
let base: string;
let bobToken: string;
const botToken = DEMO_SEED.bots[0]?.token ?? '';

/** An open `text/event-stream` response, with the events read so far. */
class EventStreamClient {
  readonly events: { event: string; data: string }[] = [];
  status = 0;
  contentType = '';
  #buffer = '';
  #res: IncomingMessage | undefined;
  readonly #req: ReturnType<typeof httpRequest>;
  readonly opened: Promise<void>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  #end: () => void = () => {};

  constructor(url: string) {
    this.ended = new Promise((resolve) => {
      this.#end = resolve;
    });
    this.#req = httpRequest(url, { headers: { accept: 'text/event-stream' } });
    this.opened = new Promise((resolve, reject) => {
      this.#req.once('error', reject);
      this.#req.once('response', (res) => {
        this.#res = res;
        this.status = res.statusCode ?? 0;
        this.contentType = String(res.headers['content-type'] ?? '');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.#read(chunk));
        res.on('error', () => {});
        res.on('end', () => this.#end());
        resolve();
      });
    });
    this.#req.end();
  }

  #read(chunk: string) {
    this.#buffer += chunk;
    let end = this.#buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) this.events.push({ event, data: data.join('\n') });
      end = this.#buffer.indexOf('\n\n');
    }
  }

  /** Waits (polling, up to 20 s) for an event named `event` whose data satisfies `match`. */
  async next(event: string, match: (data: unknown) => boolean = () => true): Promise<unknown> {
    for (let i = 0; i < 200; i++) {
      const found = this.events.find((e) => e.event === event && match(JSON.parse(e.data)));
      if (found) return JSON.parse(found.data);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no "${event}" event; got ${JSON.stringify(this.events).slice(0, 500)}`);
  }

  close() {
    this.#res?.destroy();
    this.#req.destroy();
  }
}

/** Bob's access token, from a code flow of his own against the emulator (not through the server). */
function tokenFor(email: string): Promise<string> {
  const { clientId, clientSecret, redirectUri } = demo.config;
  return emulatorToken(
    { emulatorUrl: demo.emulatorUrl, clientId: String(clientId), clientSecret: String(clientSecret), redirectUri },
    email,
    ['spark:messages_write', 'spark:messages_read', 'spark:rooms_read'],
  );
}

/** Calls the emulator's REST API with `token`. */
async function webex(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${demo.config.apiBase}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
}

/** Bob posts `markdown` to the demo space; returns the message id. */
async function bobPosts(markdown: string): Promise<string> {
  const posted = await webex(bobToken, 'POST', '/messages', { roomId: demo.config.spaceId, markdown });
  expect(posted.status).toBe(200);
  return String(posted.body.id);
}

const HOSTILE = '**bold** <img src=x onerror=alert(1)> [click](javascript:alert(1)) [safe](https://example.com/a)';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webex-auth-space-live-'));
  const config = testConfig({
    XDG_DATA_HOME: dir,
    WEBEX_AUTH_DB: join(dir, 'webex-auth.db'),
    WEBEX_AUTH_KEYS: generateKeyEntry('k1'),
    PORT: '0',
    HOST: '127.0.0.1',
  });
  demo = await startDemo(config);
  app = await buildApp(demo.config);
  base = (await listen(app, demo.config)).replace('localhost', '127.0.0.1');
  // Alice authorizes for the space demo from its page, and lands back on /space.
  const b = new Browser(app);
  expect((await b.get('/space')).body).toContain('name="return_to" value="/space"');
  const started = await b.post('/oauth/start', { scopes: SPACE_SCOPES.join(' '), return_to: '/space' });
  expect(started.statusCode).toBe(303);
  const callback = await consent(String(started.headers.location), 'alice@example.com');
  const done = await b.get(callback.pathname + callback.search);
  expect(done.statusCode).toBe(303);
  expect(done.headers.location).toBe('/space');
  expect((await b.get('/space')).body).toContain('Hello from the demo bot');
  // Bob, a member of the space too (the bot adds him), posts through the emulator's API.
  bobToken = await tokenFor('bob@example.com');
  const added = await webex(botToken, 'POST', '/memberships', {
    roomId: demo.config.spaceId,
    personEmail: 'bob@example.com',
  });
  expect(added.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await demo?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the live space page', () => {
  it('a message another person posts reaches the open stream by webhook, rendered from markdown and inert', async () => {
    const stream = new EventStreamClient(`${base}/space/events`);
    try {
      await stream.opened;
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain('text/event-stream');
      expect(await stream.next('ready')).toEqual({ mode: 'webhook' });
      const id = await bobPosts(HOSTILE);
      const event = (await stream.next('message', (d) => (d as { id?: string }).id === id)) as { html: string };
      expect(event.html).toContain('bob@example.com');
      expect(event.html).toContain('<strong>bold</strong>');
      expect(event.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(event.html).not.toMatch(/<img/i);
      expect(event.html).not.toMatch(/href="\s*javascript:/i);
      expect(event.html).toContain(
        '<a href="https://example.com/a" rel="noopener noreferrer nofollow" target="_blank">safe</a>',
      );
      // It came by webhook: the emulator delivered it to this server's receiver, which accepted it.
      const { deliveries } = (await (await fetch(`${demo.emulatorUrl}/_emulator/deliveries`)).json()) as {
        deliveries: { targetUrl: string; dataId: string; ok: boolean }[];
      };
      expect(deliveries.find((d) => d.dataId === id)).toMatchObject({ targetUrl: `${base}/space/webhook`, ok: true });
    } finally {
      stream.close();
    }
    // The page itself renders the same way.
    const page = await new Browser(app).get('/space');
    expect(page.body).toContain('<strong>bold</strong>');
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).not.toMatch(/href="\s*javascript:/i);
    expect(page.body).toContain('<script src="/static/space.js" defer></script>');
    expect((await app.inject('/static/space.js')).statusCode).toBe(200);
  });

  it('registers its webhook once: later streams reuse it', async () => {
    for (let i = 0; i < 2; i++) {
      const stream = new EventStreamClient(`${base}/space/events`);
      await stream.next('ready');
      stream.close();
    }
    const vault = await openVault(demo.config);
    try {
      const [connection] = await vault.connections.list();
      const { accessToken } = await vault.connections.getFreshToken(String(connection?.id), 60);
      const listed = await webex(accessToken, 'GET', '/webhooks');
      const ours = (listed.body.items as { name: string; filter: string }[]).filter(
        (w) => w.name === SPACE_WEBHOOK_NAME,
      );
      expect(ours).toHaveLength(1);
      expect(ours[0]?.filter).toBe(`roomId=${demo.config.spaceId}`);
    } finally {
      await vault.close();
    }
  });

  it('a restart (a new secret) updates the same webhook instead of adding one', async () => {
    const client = new WebexClient({ apiBase: demo.config.apiBase, accessToken: bobToken });
    const spec = { targetUrl: 'http://127.0.0.1:9/space/webhook', spaceId: String(demo.config.spaceId) };
    const first = await ensureSpaceWebhook(client, { ...spec, secret: 'first-secret' });
    const again = await ensureSpaceWebhook(client, { ...spec, secret: 'second-secret' });
    expect(again).toBe(first);
    const listed = await webex(bobToken, 'GET', '/webhooks');
    expect((listed.body.items as { name: string }[]).filter((w) => w.name === SPACE_WEBHOOK_NAME)).toHaveLength(1);
    expect((await webex(bobToken, 'DELETE', `/webhooks/${first}`)).status).toBe(204);
  });

  it('without a reachable address it polls with the person token instead', async () => {
    // The same store and owner, but not in demo mode and no https PUBLIC_URL: Webex could not deliver here.
    const polling = await buildApp({ ...demo.config, mode: 'custom' });
    try {
      const url = (await listen(polling, { port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
      const stream = new EventStreamClient(`${url}/space/events`);
      try {
        expect(await stream.next('ready')).toEqual({ mode: 'polling' });
        const id = await bobPosts('polled *message*');
        const event = (await stream.next('message', (d) => (d as { id?: string }).id === id)) as { html: string };
        expect(event.html).toContain('<em>message</em>');
        // Closing the server ends the open stream (it does not hold close() until the browser leaves).
        await polling.close();
        await stream.ended;
      } finally {
        stream.close();
      }
    } finally {
      await polling.close();
    }
  });

  it('a refused webhook registration falls back to polling', async () => {
    // The next REST call, the server's look for its webhook, fails.
    await fetch(`${demo.emulatorUrl}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'rest', status: 503, count: 1 }),
    });
    const stream = new EventStreamClient(`${base}/space/events`);
    try {
      expect(await stream.next('ready')).toEqual({ mode: 'polling' });
      const id = await bobPosts('after a refused webhook');
      await stream.next('message', (d) => (d as { id?: string }).id === id);
    } finally {
      stream.close();
      await fetch(`${demo.emulatorUrl}/_emulator/faults`, { method: 'DELETE' });
    }
  });

  it("a webhook's secret (which its owner can read back from GET /webhooks) signs its own deliveries only", async () => {
    const stream = new EventStreamClient(`${base}/space/events`);
    try {
      expect(await stream.next('ready')).toEqual({ mode: 'webhook' });
    } finally {
      stream.close();
    }
    const vault = await openVault(demo.config);
    let ours: { id: string; secret?: string } | undefined;
    try {
      const [connection] = await vault.connections.list();
      const { accessToken } = await vault.connections.getFreshToken(String(connection?.id), 60);
      const listed = await webex(accessToken, 'GET', '/webhooks');
      ours = (listed.body.items as { id: string; name: string; secret?: string }[]).find(
        (w) => w.name === SPACE_WEBHOOK_NAME,
      );
    } finally {
      await vault.close();
    }
    expect(ours?.secret).toBeTruthy();
    const deliver = (webhookId: string) => {
      const body = JSON.stringify({
        id: webhookId,
        resource: 'messages',
        event: 'created',
        data: { id: 'no-such-message', roomId: demo.config.spaceId },
      });
      return fetch(`${base}/space/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-spark-signature': createHmac('sha1', String(ours?.secret)).update(body).digest('hex'),
        },
        body,
      });
    };
    // Signed with that secret: accepted for its own webhook, refused for any other webhook id (another person's).
    expect((await deliver(String(ours?.id))).status).toBe(204);
    expect((await deliver('Y2lzY29zcGFyazovL3VzL1dFQkhPT0svYW5vdGhlcg')).status).toBe(401);
  });

  it('the webhook receiver refuses a delivery without a valid signature', async () => {
    const body = JSON.stringify({ id: 'x', resource: 'messages', event: 'created', data: { id: 'm', roomId: 'r' } });
    for (const signature of [undefined, 'not-hex', createHmac('sha1', 'a guessed secret').update(body).digest('hex')]) {
      const res = await fetch(`${base}/space/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'x-spark-signature': signature } : {}) },
        body,
      });
      expect(res.status, String(signature)).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const big = await fetch(`${base}/space/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-spark-signature': '0'.repeat(40) },
      body: JSON.stringify({ pad: 'x'.repeat(64 * 1024) }),
    });
    expect(big.status).toBe(413);
    // The check itself: the hex HMAC-SHA1 of the raw body under the secret.
    const raw = Buffer.from(body);
    expect(validSparkSignature(raw, createHmac('sha1', 's3cret').update(raw).digest('hex'), 's3cret')).toBe(true);
    expect(validSparkSignature(raw, createHmac('sha1', 's3cret').update(raw).digest('hex'), 'other')).toBe(false);
  });

  it('bounds the open streams of one owner', async () => {
    const streams = Array.from({ length: 5 }, () => new EventStreamClient(`${base}/space/events`));
    try {
      for (const s of streams) await s.next('ready');
      const extra = new EventStreamClient(`${base}/space/events`);
      await extra.opened;
      expect(extra.status).toBe(429);
      extra.close();
    } finally {
      for (const s of streams) s.close();
    }
    // Closed streams are forgotten: a new one opens again.
    let reopened: EventStreamClient | undefined;
    for (let i = 0; i < 100; i++) {
      reopened = new EventStreamClient(`${base}/space/events`);
      await reopened.opened;
      if (reopened.status === 200) break;
      reopened.close();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(reopened?.status).toBe(200);
    reopened?.close();
  });
});

describe('markdown rendering', () => {
  it('keeps raw HTML, javascript: and other non-http(s) links, and images inert', async () => {
    const out = (
      await renderMessageBody({
        markdown:
          '<script>alert(1)</script> [a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](data:text/html,x) [d](/relative) ![i](https://example.com/i.png) <javascript:alert(1)>',
      })
    ).value;
    expect(out).not.toMatch(/<script|<img|href="(?!https?:)/i);
    expect(out).toContain('&lt;script&gt;');
    expect((await renderMessageBody({ text: 'plain <b>text</b>\nsecond line' })).value).toBe(
      '<p>plain &lt;b&gt;text&lt;/b&gt;<br>second line</p>',
    );
  });
});

describe('the return path after authorizing', () => {
  it('accepts local paths only; an open-redirect attempt is refused and never followed', async () => {
    expect(returnPath('/space')).toBe('/space');
    expect(returnPath('/connections/abc_DEF-1')).toBe('/connections/abc_DEF-1');
    const hostile = [
      '//evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      'https://evil.example/space',
      'javascript:alert(1)',
      '/space/../../x',
      '/%2F%2Fevil.example',
      '/space?x=https://evil.example',
      ' /space',
      '/space\n',
      '',
    ];
    const b = new Browser(app);
    await b.get('/space');
    for (const value of hostile) {
      expect(returnPath(value), value).toBeUndefined();
      const res = await b.post('/oauth/start', { scopes: SPACE_SCOPES.join(' '), return_to: value });
      expect(res.statusCode, value).toBe(400);
      expect(res.headers.location, value).toBeUndefined();
      expect(res.body).toContain('Invalid return address');
    }
  });

  it('without a return path the callback answers with the connection page', async () => {
    const b = new Browser(app);
    await b.get('/');
    const started = await b.post('/oauth/start', { scope: ['spark:people_read'] });
    const callback = await consent(String(started.headers.location), 'alice@example.com');
    const done = await b.get(callback.pathname + callback.search);
    expect(done.statusCode).toBe(200);
    expect(done.headers.location).toBeUndefined();
    expect(String(done.headers['content-location'])).toMatch(/^\/connections\/[A-Za-z0-9_-]+$/);
  });
});

describe('access to the event stream', () => {
  it('team mode: refused without a signed-in account, as /space is', async () => {
    const { app: team } = await testApp({
      WEBEX_AUTH_MODE: 'team',
      WEBEX_CLIENT_ID: `C${'a'.repeat(63)}`,
      WEBEX_CLIENT_SECRET: 's'.repeat(64),
      BOT_TOKEN: 'bot-token',
      SPACE_ID: 'space-id',
    });
    try {
      for (const path of ['/space', '/space/events']) {
        const res = await team.inject(path);
        expect(res.statusCode, path).toBe(303);
        expect(res.headers.location, path).toBe('/?signin=required');
        expect(String(res.headers['content-type'] ?? '')).not.toContain('text/event-stream');
      }
    } finally {
      await team.close();
    }
  });
});
