/**
 * Webhooks in the emulator: CRUD, validation, scopes, signed deliveries, filters, every resource × event (with `all`),
 * person and bot visibility, retries, inactive and resuming, no redirects.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BOT_TOKEN, control, type Emu, get, login, start } from './helpers.js';

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A loopback receiver that records every request and answers `status` (changeable). */
async function receiver() {
  const hits: Hit[] = [];
  const r = { hits, status: 200, location: undefined as string | undefined, url: '', close: () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      hits.push({ path: req.url ?? '', headers: req.headers, raw, body });
      if (r.location) res.setHeader('location', r.location);
      res.statusCode = r.status;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () => {
    server.closeAllConnections();
    server.close();
  };
  return r;
}
type Receiver = Awaited<ReturnType<typeof receiver>>;

async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let emu: Emu;
let rx: Receiver;
let alice: string;
let bob: string;
let aliceId: string;
let bobId: string;
let botId: string;

beforeAll(async () => {
  emu = await start({ webhookRetries: 2, webhookRetryBaseMs: 20, webhookInactiveAfter: 2, webhookTimeoutMs: 2000 });
});
afterAll(() => emu.close());

beforeEach(async () => {
  await control(emu, 'reset');
  rx = await receiver();
  alice = (await login(emu, { scope: 'spark:all' }, 'alice@example.com')).access_token;
  bob = (await login(emu, { scope: 'spark:all' }, 'bob@example.com')).access_token;
  aliceId = (await get(emu, '/people/me', alice)).body.id;
  bobId = (await get(emu, '/people/me', bob)).body.id;
  botId = (await get(emu, '/people/me', BOT_TOKEN)).body.id;
});
afterEach(() => rx.close());

const send = (method: string, path: string, token: string | undefined, body?: unknown, type = 'application/json') =>
  get(emu, path, token, {
    method,
    headers: body === undefined ? {} : { 'content-type': type },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
const post = (path: string, token: string | undefined, body: unknown) => send('POST', path, token, body);

function hook(token: string, fields: Record<string, unknown> = {}) {
  return post('/webhooks', token, {
    name: 'test hook',
    targetUrl: `${rx.url}/hook`,
    resource: 'messages',
    event: 'created',
    ...fields,
  });
}

function expectEnvelope(body: any) {
  expect(body).toMatchObject({ message: expect.any(String), errors: [{ description: expect.any(String) }] });
  expect(body.trackingId).toMatch(/^ROUTER_/);
}

describe('webhooks CRUD', () => {
  it('creates, lists (own only, paginated), reads, updates and deletes', async () => {
    const created = await hook(alice, { filter: 'roomType=direct', secret: 's3cret' });
    expect(created.status).toBe(200);
    const w = created.body;
    expect(w).toMatchObject({
      name: 'test hook',
      targetUrl: `${rx.url}/hook`,
      resource: 'messages',
      event: 'created',
      filter: 'roomType=direct',
      secret: 's3cret',
      status: 'active',
      ownedBy: 'creator',
      createdBy: aliceId,
      orgId: expect.any(String),
      appId: expect.any(String),
    });
    expect(Buffer.from(w.id, 'base64').toString()).toMatch(/^ciscospark:\/\/us\/WEBHOOK\/[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(w.created))).toBe(false);

    await hook(alice, { name: 'second' });
    await hook(alice, { name: 'third' });
    await hook(bob, { name: 'bobs' });
    const all = await get(emu, '/webhooks', alice);
    expect(all.body.items.map((x: any) => x.name)).toEqual(['test hook', 'second', 'third']);
    const page = await get(emu, '/webhooks?max=2', alice);
    expect(page.body.items).toHaveLength(2);
    const next = /<([^>]+)>; rel="next"/.exec(page.headers.get('link') ?? '')?.[1] as string;
    expect((await get(emu, next, alice)).body.items.map((x: any) => x.name)).toEqual(['third']);

    expect((await get(emu, `/webhooks/${w.id}`, alice)).body).toEqual(w);
    expect((await get(emu, `/webhooks/${w.id}`, bob)).status).toBe(404);
    const put = await send('PUT', `/webhooks/${w.id}`, alice, { name: 'renamed', targetUrl: `${rx.url}/other` });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: w.id, name: 'renamed', targetUrl: `${rx.url}/other`, secret: 's3cret' });
    expect((await send('DELETE', `/webhooks/${w.id}`, bob)).status).toBe(404);
    expect((await send('DELETE', `/webhooks/${w.id}`, alice)).status).toBe(204);
    const gone = await get(emu, `/webhooks/${w.id}`, alice);
    expect(gone.status).toBe(404);
    expectEnvelope(gone.body);
    const again = await send('PUT', `/webhooks/${w.id}`, alice, { name: 'x', targetUrl: `${rx.url}/x` });
    expect(again.status).toBe(404);
    expectEnvelope(again.body);
    expect((await send('DELETE', `/webhooks/${w.id}`, alice)).status).toBe(404);
    expect((await get(emu, '/webhooks/not-an-id', alice)).status).toBe(404);
    expect((await get(emu, '/webhooks', alice)).body.items.map((x: any) => x.name)).toEqual(['second', 'third']);
  });

  it('PUT changes name, targetUrl and secret; status inactive pauses deliveries', async () => {
    const w = (await hook(alice)).body;
    expect(w.secret).toBeUndefined();
    const put = await send('PUT', `/webhooks/${w.id}`, alice, {
      name: 'paused',
      targetUrl: `${rx.url}/moved`,
      secret: 'new secret',
      status: 'inactive',
    });
    expect(put.body).toMatchObject({ name: 'paused', targetUrl: `${rx.url}/moved`, secret: 'new secret' });
    expect(put.body.status).toBe('inactive');
    await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'unheard' });
    await sleep(150);
    expect(rx.hits).toHaveLength(0);
    await send('PUT', `/webhooks/${w.id}`, alice, { name: 'on', targetUrl: `${rx.url}/moved`, status: 'active' });
    await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'heard' });
    await waitFor(() => rx.hits.length === 1);
    const hit = rx.hits[0] as Hit;
    expect(hit.path).toBe('/moved');
    expect(hit.headers['x-spark-signature']).toBe(createHmac('sha1', 'new secret').update(hit.raw).digest('hex'));
  });

  it('answers bad input in the Webex error shape', async () => {
    const cases: Record<string, unknown>[] = [
      { name: undefined },
      { targetUrl: 'ftp://example.com/x' },
      { targetUrl: 'not a url' },
      { resource: 'teams' },
      { event: 'exploded' },
      { filter: 'roomType=triangle' },
      { filter: 'colour=blue' },
      { filter: 'roomId' },
      { ownedBy: 'org' },
    ];
    for (const c of cases) {
      const r = await hook(alice, c);
      expect(r.status, JSON.stringify(c)).toBe(400);
      expectEnvelope(r.body);
    }
    const text = await send('POST', '/webhooks', alice, 'name=x', 'application/x-www-form-urlencoded');
    expect(text.status).toBe(415);
    const anon = await hook(undefined as unknown as string);
    expect(anon.status).toBe(401);
    expectEnvelope(anon.body);
    const w = (await hook(alice)).body;
    const put = await send('PUT', `/webhooks/${w.id}`, alice, { status: 'active' });
    expect(put.status).toBe(400);
    expectEnvelope(put.body);
  });

  it('refuses a messages webhook to a token that cannot read messages (403), not a rooms one', async () => {
    const narrow = (await login(emu, { scope: 'spark:people_read' }, 'alice@example.com')).access_token;
    const r = await hook(narrow);
    expect(r.status).toBe(403);
    expectEnvelope(r.body);
    expect((await hook(narrow, { resource: 'rooms' })).status).toBe(200);
    const reader = (await login(emu, { scope: 'spark:messages_read' }, 'alice@example.com')).access_token;
    expect((await hook(reader)).status).toBe(200);
    expect((await hook(BOT_TOKEN)).status).toBe(200);
  });
});

describe('webhook deliveries', () => {
  it('POSTs the webhook fields, actorId and data (never the text), signed with the secret', async () => {
    const w = (await hook(alice, { secret: 'shh' })).body;
    const plain = (await hook(alice, { targetUrl: `${rx.url}/plain` })).body;
    const msg = await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'secret words' });
    expect(msg.status).toBe(200);
    await waitFor(() => rx.hits.length === 2);
    const signed = rx.hits.find((h) => h.path === '/hook') as Hit;
    expect(signed.headers['content-type']).toMatch(/^application\/json/);
    const sig = createHmac('sha1', 'shh').update(signed.raw).digest('hex');
    expect(signed.headers['x-spark-signature']).toBe(sig);
    expect(signed.raw).not.toContain('secret words');
    expect(signed.body).toEqual({
      id: w.id,
      name: w.name,
      targetUrl: w.targetUrl,
      resource: 'messages',
      event: 'created',
      orgId: w.orgId,
      createdBy: aliceId,
      appId: w.appId,
      ownedBy: 'creator',
      status: 'active',
      created: w.created,
      actorId: bobId,
      data: {
        id: msg.body.id,
        roomId: msg.body.roomId,
        roomType: 'direct',
        personId: bobId,
        personEmail: 'bob@example.com',
        created: msg.body.created,
      },
    });
    const unsigned = rx.hits.find((h) => h.path === '/plain') as Hit;
    expect(unsigned.headers['x-spark-signature']).toBeUndefined();
    expect(unsigned.body.id).toBe(plain.id);
    // The receiver reads the text with its own token.
    expect((await get(emu, `/messages/${signed.body.data.id}`, alice)).body.text).toBe('secret words');
  });

  it('fires only for what the owner can read, and applies roomType, roomId, personEmail and mentionedPeople filters', async () => {
    const room = (await post('/rooms', alice, { title: 'Group' })).body;
    expect((await post('/memberships', alice, { roomId: room.id, personEmail: 'bob@example.com' })).status).toBe(200);
    await hook(alice, { targetUrl: `${rx.url}/direct`, filter: 'roomType=direct' });
    await hook(alice, { targetUrl: `${rx.url}/room`, filter: `roomId=${room.id}` });
    await hook(alice, { targetUrl: `${rx.url}/from-bob`, filter: 'personEmail=bob%40example.com' });
    await hook(alice, { targetUrl: `${rx.url}/mentions`, filter: 'mentionedPeople=me' });
    await hook(alice, { targetUrl: `${rx.url}/bob-direct`, filter: 'personEmail=bob@example.com&roomType=direct' });
    await hook(alice, { targetUrl: `${rx.url}/all` });

    await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'dm' }); // direct, from-bob, bob-direct, all
    await post('/messages', alice, { roomId: room.id, text: 'hi all' }); // room, all
    await post('/messages', bob, { roomId: room.id, markdown: 'hey <@personEmail:alice@example.com|Alice>' }); // room, from-bob, mentions, all
    // A direct room between bob and the bot: alice cannot read it.
    await post('/messages', bob, { toPersonEmail: 'demo-bot@webex.bot', text: 'not for alice' });
    await waitFor(() => rx.hits.length >= 10);
    await sleep(100);
    const count = (p: string) => rx.hits.filter((h) => h.path === p).length;
    expect({
      direct: count('/direct'),
      room: count('/room'),
      fromBob: count('/from-bob'),
      mentions: count('/mentions'),
      bobDirect: count('/bob-direct'),
      all: count('/all'),
    }).toEqual({ direct: 1, room: 2, fromBob: 2, mentions: 1, bobDirect: 1, all: 3 });
    const mention = rx.hits.find((h) => h.path === '/mentions') as Hit;
    expect(mention.body.data.mentionedPeople).toEqual([aliceId]);
  });

  it("a bot's webhook fires for its direct rooms and for group messages that @mention it", async () => {
    await hook(BOT_TOKEN);
    const demo = (await get(emu, '/rooms', BOT_TOKEN)).body.items.find((r: any) => r.title === 'Demo space');
    await post('/messages', alice, { roomId: demo.id, text: 'no mention here' });
    const mentioned = await post('/messages', alice, {
      roomId: demo.id,
      markdown: `ping <@personId:${botId}|Demo Bot>`,
    });
    const direct = await post('/messages', bob, { toPersonEmail: 'demo-bot@webex.bot', text: 'hello bot' });
    await waitFor(() => rx.hits.length >= 2);
    await sleep(100);
    expect(rx.hits.map((h) => h.body.data.id).sort()).toEqual([mentioned.body.id, direct.body.id].sort());
    const m = rx.hits.find((h) => h.body.data.id === mentioned.body.id) as Hit;
    expect(m.body.data).toMatchObject({ roomType: 'group', mentionedPeople: [botId], personId: aliceId });
    expect(m.body.createdBy).toBe(botId);
  });

  it('emits created, updated and deleted for every resource, and event all covers the three', async () => {
    const resources = ['messages', 'memberships', 'rooms'] as const;
    const events = ['created', 'updated', 'deleted', 'all'] as const;
    for (const resource of resources)
      for (const event of events) {
        const r = await hook(alice, { resource, event, targetUrl: `${rx.url}/${resource}/${event}` });
        expect(r.status).toBe(200);
      }
    const room = (await post('/rooms', alice, { title: 'Matrix' })).body;
    expect((await send('PUT', `/rooms/${room.id}`, alice, { title: 'Renamed' })).status).toBe(200);
    const m = (await post('/memberships', alice, { roomId: room.id, personEmail: 'bob@example.com' })).body;
    expect((await send('PUT', `/memberships/${m.id}`, alice, { isModerator: true })).status).toBe(200);
    const msg = (await post('/messages', alice, { roomId: room.id, text: 'first words' })).body;
    const edit = await send('PUT', `/messages/${msg.id}`, alice, { roomId: room.id, text: 'better words' });
    expect(edit.status).toBe(200);
    expect((await send('DELETE', `/messages/${msg.id}`, alice)).status).toBe(204);
    expect((await send('DELETE', `/memberships/${m.id}`, alice)).status).toBe(204);
    expect((await send('DELETE', `/rooms/${room.id}`, alice)).status).toBe(204);
    await waitFor(() => rx.hits.length >= 18);
    await sleep(100);
    expect(rx.hits).toHaveLength(18);

    const ids = { messages: msg.id, memberships: m.id, rooms: room.id };
    for (const resource of resources) {
      const at = (event: string) => rx.hits.filter((h) => h.path === `/${resource}/${event}`);
      for (const event of ['created', 'updated', 'deleted']) {
        const hits = at(event);
        expect(hits.map((h) => [h.body.resource, h.body.event, h.body.data.id])).toEqual([
          [resource, event, ids[resource]],
        ]);
      }
      expect(
        at('all')
          .map((h) => h.body.event)
          .sort(),
      ).toEqual(['created', 'deleted', 'updated']);
      expect(new Set(at('all').map((h) => h.body.data.id))).toEqual(new Set([ids[resource]]));
      for (const h of at('all')) expect(h.body).toMatchObject({ event: expect.any(String), actorId: aliceId });
    }
    const updated = (resource: string) => rx.hits.find((h) => h.path === `/${resource}/updated`)?.body;
    expect(updated('rooms').data).toMatchObject({ id: room.id, title: 'Renamed' });
    expect(updated('memberships').data).toMatchObject({ id: m.id, personEmail: 'bob@example.com', isModerator: true });
    expect(updated('messages').data).toMatchObject({ id: msg.id, roomId: room.id, personId: aliceId });
    for (const h of rx.hits) {
      expect(h.raw).not.toContain('first words');
      expect(h.raw).not.toContain('better words');
    }
  });

  it("a person's webhook follows what they can read: a removed member hears the removal, then nothing", async () => {
    await hook(bob, { resource: 'memberships', event: 'all', targetUrl: `${rx.url}/bob-m` });
    await hook(bob, { resource: 'messages', event: 'all', targetUrl: `${rx.url}/bob-msg` });
    await hook(bob, { resource: 'rooms', event: 'all', targetUrl: `${rx.url}/bob-r` });
    await hook(alice, { resource: 'rooms', event: 'updated', targetUrl: `${rx.url}/alice-r` });
    const room = (await post('/rooms', alice, { title: 'Not yet bob' })).body; // bob is no member: nothing
    const m = (await post('/memberships', alice, { roomId: room.id, personEmail: 'bob@example.com' })).body;
    await post('/messages', alice, { roomId: room.id, text: 'bob may read this' });
    expect((await send('DELETE', `/memberships/${m.id}`, alice)).status).toBe(204);
    await post('/messages', alice, { roomId: room.id, text: 'bob is gone' });
    await send('PUT', `/rooms/${room.id}`, alice, { title: 'Without bob' });
    await waitFor(() => rx.hits.some((h) => h.path === '/alice-r'));
    await sleep(100);
    const at = (p: string) => rx.hits.filter((h) => h.path === p).map((h) => h.body.event);
    expect({ m: at('/bob-m').sort(), msg: at('/bob-msg'), r: at('/bob-r') }).toEqual({
      m: ['created', 'deleted'],
      msg: ['created'],
      r: [],
    });
  });

  it('a message edit that newly @mentions someone reaches their mentionedPeople=me webhook', async () => {
    const room = (await post('/rooms', bob, { title: 'Edits' })).body;
    await post('/memberships', bob, { roomId: room.id, personEmail: 'alice@example.com' });
    await hook(alice, { event: 'all', filter: 'mentionedPeople=me' });
    const msg = (await post('/messages', bob, { roomId: room.id, text: 'hi' })).body;
    const edit = await send('PUT', `/messages/${msg.id}`, bob, {
      roomId: room.id,
      markdown: 'hi <@personEmail:alice@example.com|Alice>',
    });
    expect(edit.body.mentionedPeople).toEqual([aliceId]);
    await waitFor(() => rx.hits.length >= 1);
    await sleep(100);
    expect(rx.hits.map((h) => [h.body.event, h.body.data.id, h.body.data.mentionedPeople])).toEqual([
      ['updated', msg.id, [aliceId]],
    ]);
  });

  it('emits memberships and rooms events', async () => {
    await hook(alice, { resource: 'memberships', event: 'all', targetUrl: `${rx.url}/m` });
    await hook(alice, { resource: 'rooms', event: 'created', targetUrl: `${rx.url}/r` });
    const room = (await post('/rooms', alice, { title: 'New' })).body;
    const m = (await post('/memberships', alice, { roomId: room.id, personEmail: 'bob@example.com' })).body;
    expect((await send('DELETE', `/memberships/${m.id}`, alice)).status).toBe(204);
    await waitFor(() => rx.hits.length >= 3);
    const r = rx.hits.find((h) => h.path === '/r') as Hit;
    expect(r.body).toMatchObject({ resource: 'rooms', event: 'created', data: { id: room.id, type: 'group' } });
    // Deliveries run concurrently: their order is not the order of the events (nor is it on Webex).
    const ms = rx.hits.filter((h) => h.path === '/m').map((h) => [h.body.event, h.body.data.personEmail]);
    expect(ms.sort()).toEqual([
      ['created', 'bob@example.com'],
      ['deleted', 'bob@example.com'],
    ]);
  });

  it('retries a failed delivery, turns inactive after repeated failures, and resumes on PUT status active', async () => {
    rx.status = 500;
    const w = (await hook(alice)).body;
    await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'one' });
    await waitFor(() => rx.hits.length === 3); // 1 attempt + 2 retries
    expect((await get(emu, `/webhooks/${w.id}`, alice)).body.status).toBe('active');
    await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'two' });
    await waitFor(async () => (await get(emu, `/webhooks/${w.id}`, alice)).body.status === 'inactive');
    expect(rx.hits).toHaveLength(6);
    await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'while inactive' });
    await sleep(150);
    expect(rx.hits).toHaveLength(6);

    const listed = await control(emu, `deliveries?webhookId=${encodeURIComponent(w.id)}`, undefined, 'GET');
    expect(listed.status).toBe(200);
    const d = listed.body.deliveries;
    expect(d.map((x: any) => x.attempt)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(d[0]).toMatchObject({ webhookId: w.id, targetUrl: w.targetUrl, statusCode: 500, ok: false });
    expect(Number.isNaN(Date.parse(d[0].at))).toBe(false);

    rx.status = 204;
    const put = await send('PUT', `/webhooks/${w.id}`, alice, {
      name: w.name,
      targetUrl: w.targetUrl,
      status: 'active',
    });
    expect(put.body.status).toBe('active');
    await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'back' });
    await waitFor(() => rx.hits.length === 7);
    const after = (await control(emu, 'deliveries', undefined, 'GET')).body.deliveries;
    expect(after.at(-1)).toMatchObject({ webhookId: w.id, statusCode: 204, attempt: 1, ok: true });
  });

  it('never follows redirects, and records unreachable receivers', async () => {
    const elsewhere = await receiver();
    try {
      rx.status = 302;
      rx.location = `${elsewhere.url}/landed`;
      await hook(alice);
      await hook(alice, { targetUrl: 'http://127.0.0.1:9/closed', name: 'closed' });
      await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'x' });
      await waitFor(async () => (await control(emu, 'deliveries', undefined, 'GET')).body.deliveries.length === 6);
      expect(elsewhere.hits).toHaveLength(0);
      const d = (await control(emu, 'deliveries', undefined, 'GET')).body.deliveries;
      expect(d.filter((x: any) => x.statusCode === 302)).toHaveLength(3);
      const closed = d.filter((x: any) => x.targetUrl.endsWith('/closed'));
      expect(closed).toHaveLength(3);
      expect(closed[0].error).toEqual(expect.any(String));
      expect(closed[0].statusCode).toBeUndefined();
    } finally {
      elsewhere.close();
    }
  });

  it('answers the API without waiting for the receiver; the first attempt then arrives', async () => {
    let held: ServerResponse | undefined;
    const slow = createServer((_req, res) => {
      held = res; // answered only when the test says so
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const w = (await hook(alice, { targetUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow` }))
        .body;
      const r = await post('/messages', bob, { toPersonEmail: 'alice@example.com', text: 'quick' });
      expect(r.status).toBe(200);
      // Had the API waited for the delivery, the attempt would already be logged (answered or timed out).
      expect((await control(emu, 'deliveries', undefined, 'GET')).body.deliveries).toEqual([]);
      await waitFor(() => held !== undefined);
      held?.end();
      await waitFor(async () => (await control(emu, 'deliveries', undefined, 'GET')).body.deliveries.length === 1);
      const [d] = (await control(emu, 'deliveries', undefined, 'GET')).body.deliveries;
      expect(d).toMatchObject({ webhookId: w.id, attempt: 1, statusCode: 200, ok: true, dataId: r.body.id });
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });
});
