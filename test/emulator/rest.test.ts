/** REST resources: people, rooms, memberships (the space demo: a bot adds a person), messages. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, type Emu, get, login, start } from './helpers.js';

let emu: Emu;
beforeAll(async () => {
  emu = await start({ autoConsent: 'bob@example.com' });
});
afterAll(() => emu.close());

const post = (path: string, token: string, body: unknown) =>
  get(emu, path, token, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('REST resources', () => {
  it('people/me for a bot says type bot; people/{id} and people?email find persons', async () => {
    const me = await get(emu, '/people/me', BOT_TOKEN);
    expect(me.body).toMatchObject({ type: 'bot', emails: ['demo-bot@webex.bot'], displayName: 'Demo Bot' });
    expect(Buffer.from(me.body.id, 'base64').toString()).toMatch(/^ciscospark:\/\/us\/PEOPLE\/[0-9a-f-]{36}$/);
    const list = await get(emu, '/people?email=alice@example.com', BOT_TOKEN);
    expect(list.body.items[0].displayName).toBe('Alice Example');
    expect((await get(emu, `/people/${list.body.items[0].id}`, BOT_TOKEN)).body.firstName).toBe('Alice');
  });

  it('the bot adds Bob to the Demo space; Bob then sees it and its messages, newest first', async () => {
    const bob = await login(emu, { scope: 'spark:all' });
    const room = (await get(emu, '/rooms', BOT_TOKEN)).body.items.find(
      (r: { title: string }) => r.title === 'Demo space',
    );
    expect((await get(emu, `/rooms/${room.id}`, bob.access_token)).status).toBe(404);
    const m = await post('/memberships', BOT_TOKEN, { roomId: room.id, personEmail: 'bob@example.com' });
    expect(m.body).toMatchObject({
      roomId: room.id,
      personEmail: 'bob@example.com',
      personDisplayName: 'Bob Example',
      roomType: 'group',
      isModerator: false,
    });
    expect((await get(emu, `/rooms/${room.id}`, bob.access_token)).body.title).toBe('Demo space');
    const members = await get(emu, `/memberships?roomId=${encodeURIComponent(room.id)}`, bob.access_token);
    expect(members.body.items.map((x: { personEmail: string }) => x.personEmail).sort()).toEqual([
      'alice@example.com',
      'bob@example.com',
      'demo-bot@webex.bot',
    ]);
    const sent = await post('/messages', bob.access_token, { roomId: room.id, markdown: 'Hello **all**' });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({
      roomId: room.id,
      markdown: 'Hello **all**',
      personEmail: 'bob@example.com',
      roomType: 'group',
    });
    const msgs = await get(emu, `/messages?roomId=${encodeURIComponent(room.id)}&max=2`, bob.access_token);
    expect(msgs.body.items[0].id).toBe(sent.body.id);
    expect(msgs.body.items).toHaveLength(2);
    expect(msgs.headers.get('link')).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/v1\/messages\?.*>; rel="next"$/);
    const next = /^<([^>]+)>/.exec(msgs.headers.get('link') as string)?.[1] as string;
    const page2 = await get(emu, next, bob.access_token);
    expect(page2.body.items.length).toBeGreaterThan(0);
  });

  it('a direct message creates a direct room titled with the other person', async () => {
    const dm = await post('/messages', BOT_TOKEN, { toPersonEmail: 'alice@example.com', text: 'psst' });
    expect(dm.body).toMatchObject({ roomType: 'direct', toPersonEmail: 'alice@example.com', text: 'psst' });
    const rooms = await get(emu, '/rooms?type=direct', BOT_TOKEN);
    expect(rooms.body.items.map((r: { title: string }) => r.title)).toEqual(['Alice Example']);
  });

  it('scopes: rooms_read does not allow posting messages (403)', async () => {
    const t = await login(emu, { scope: 'spark:rooms_read' });
    const room = (await get(emu, '/rooms', BOT_TOKEN)).body.items[0];
    expect((await post('/messages', t.access_token, { roomId: room.id, text: 'x' })).status).toBe(403);
  });
});

describe('WebFinger', () => {
  it('answers a JRD whose issuer link is the configured issuer', async () => {
    const r = await get(emu, '/.well-known/webfinger?resource=acct:alice@example.com');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/jrd\+json/);
    expect(r.body.links[0]).toEqual({
      rel: 'http://openid.net/specs/connect/1.0/issuer',
      href: 'https://idbroker-b-us.webex.com/idb',
    });
  });
});
