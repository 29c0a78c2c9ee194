/** REST resources: people, rooms, memberships (the space demo: a bot adds a person), messages. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG_ID, restId } from '../../src/emulator/ids.js';
import { DEMO_SEED } from '../../src/emulator/index.js';
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

describe('orgs and roles (users[].orgId, users[].roles)', () => {
  const A = '6b0a1c3e-2f4d-4e5a-9b7c-8d1e2f3a4b5c';
  const B = 'd4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70';
  const ORG_A = restId('ORGANIZATION', A);
  const ORG_B = restId('ORGANIZATION', B);
  const role = (name: string) => Buffer.from(`ciscospark://us/ROLE/id_${name}`).toString('base64').replace(/=+$/, '');
  let org: Emu;
  beforeAll(async () => {
    org = await start({
      seed: {
        ...DEMO_SEED,
        users: [
          { ...DEMO_SEED.users[0], email: 'alice@example.com', displayName: 'Alice Example', orgId: A },
          { ...DEMO_SEED.users[1], email: 'bob@example.com', displayName: 'Bob Example', orgId: ORG_B },
          { email: 'carol@example.com', displayName: 'Carol Admin', orgId: ORG_A, roles: ['full_admin', 'user_admin'] },
          { email: 'dave@other.example', displayName: 'Dave Device', orgId: B, roles: ['device_admin'] },
          { email: 'frank@example.com', displayName: 'Frank Default' },
        ],
      },
    });
  });
  afterAll(() => org.close());
  const me = async (email: string, scope = 'spark:all') => {
    const t = await login(org, { scope }, email);
    return { t, me: (await get(org, '/people/me', t.access_token)).body };
  };

  it('two users in two orgs each see their own orgId in people/me; no orgId means the default org', async () => {
    const alice = await me('alice@example.com');
    const bob = await me('bob@example.com');
    expect(alice.me.orgId).toBe(ORG_A);
    expect(bob.me.orgId).toBe(ORG_B);
    expect(Buffer.from(alice.me.orgId, 'base64').toString()).toBe(`ciscospark://us/ORGANIZATION/${A}`);
    expect(alice.me.avatar).toContain(`Avtr~V1~${A}/`);
    expect((await me('frank@example.com')).me.orgId).toBe(ORG_ID);
    expect((await get(org, '/people/me', BOT_TOKEN)).body.orgId).toBe(ORG_ID);
    expect([ORG_A, ORG_B]).not.toContain(ORG_ID);
    // Credentials end with the person's org UUID, as Webex's do.
    expect(alice.t.access_token).toMatch(new RegExp(`_PF84_${A}$`));
    expect(bob.t.refresh_token).toMatch(new RegExp(`_PF84_${B}$`));
    // Others see a person's own org: people/{id}, people?email.
    expect((await get(org, `/people/${alice.me.id}`, bob.t.access_token)).body.orgId).toBe(ORG_A);
    const list = await get(org, '/people?email=bob@example.com', alice.t.access_token);
    expect(list.body.items[0].orgId).toBe(ORG_B);
  });

  it('memberships show personOrgId and rooms ownerId of the creator org', async () => {
    const alice = await me('alice@example.com');
    const room = (await get(org, '/rooms', alice.t.access_token)).body.items.find(
      (r: { title: string }) => r.title === 'Demo space',
    );
    expect(room.ownerId).toBe(ORG_ID); // created by the demo bot
    const members = await get(org, `/memberships?roomId=${encodeURIComponent(room.id)}`, alice.t.access_token);
    const byEmail = Object.fromEntries(
      members.body.items.map((m: { personEmail: string; personOrgId: string }) => [m.personEmail, m.personOrgId]),
    );
    expect(byEmail).toEqual({ 'alice@example.com': ORG_A, 'demo-bot@webex.bot': ORG_ID });
    const created = await get(org, '/rooms', alice.t.access_token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Org A room' }),
    });
    expect(created.body.ownerId).toBe(ORG_A);
  });

  it('people/me shows roles (Webex role ids) only when the person has any', async () => {
    const carol = await me('carol@example.com');
    expect(carol.me.roles).toEqual([role('full_admin'), role('user_admin')]);
    expect(carol.me.roles[0]).toBe('Y2lzY29zcGFyazovL3VzL1JPTEUvaWRfZnVsbF9hZG1pbg');
    expect(Object.keys(carol.me).indexOf('roles')).toBe(Object.keys(carol.me).indexOf('orgId') + 1);
    const dave = await me('dave@other.example');
    expect(dave.me.roles).toEqual(['Y2lzY29zcGFyazovL3VzL1JPTEUvaWRfZGV2aWNlX2FkbWlu']);
    const alice = await me('alice@example.com');
    expect(alice.me).not.toHaveProperty('roles');
    // Someone else sees roles only as an admin of the person's org.
    expect((await get(org, `/people/${carol.me.id}`, alice.t.access_token)).body).not.toHaveProperty('roles');
    expect((await get(org, `/people/${carol.me.id}`, carol.t.access_token)).body.roles).toEqual(carol.me.roles);
    expect((await get(org, `/people/${dave.me.id}`, carol.t.access_token)).body).not.toHaveProperty('roles');
    const list = await get(org, '/people?email=carol@example.com', dave.t.access_token);
    expect(list.body.items[0]).not.toHaveProperty('roles');
    // people/me is still served right after the other views (the two cached views do not mix).
    expect((await get(org, '/people/me', carol.t.access_token)).body.roles).toEqual(carol.me.roles);
    expect((await get(org, '/people/me', alice.t.access_token)).body).not.toHaveProperty('roles');
  });

  it('userinfo and the id_token carry no org claim (the client learns the org from people/me)', async () => {
    const t = await login(org, { scope: 'openid email profile spark:people_read', nonce: 'n' }, 'carol@example.com');
    const info = (await get(org, '/userinfo', t.access_token)).body;
    expect(info.email).toBe('carol@example.com');
    const claims = JSON.parse(Buffer.from((t.id_token as string).split('.')[1] as string, 'base64url').toString());
    for (const body of [info, claims]) {
      expect(Object.keys(body).filter((k) => /org|role/i.test(k))).toEqual([]);
      expect(JSON.stringify(body)).not.toContain(A);
    }
  });
});
