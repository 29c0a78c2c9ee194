/**
 * The update routes as Webex answers them: `PUT /v1/messages/{id}` (only the author, roomId required, at most 10 edits,
 * never a message with files), `PUT /v1/rooms/{id}` (title), `DELETE /v1/rooms/{id}` (a non-moderator of a moderated
 * space leaves instead), `PUT /v1/memberships/{id}` (isModerator, isRoomHidden). Errors in the REST envelope.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BOT_TOKEN, control, type Emu, get, login, start } from './helpers.js';

let emu: Emu;
let alice: string;
let bob: string;

beforeAll(async () => {
  emu = await start();
});
afterAll(() => emu.close());
beforeEach(async () => {
  await control(emu, 'reset');
  alice = (await login(emu, { scope: 'spark:all' }, 'alice@example.com')).access_token;
  bob = (await login(emu, { scope: 'spark:all' }, 'bob@example.com')).access_token;
});

const send = (method: string, path: string, token: string, body?: unknown) =>
  get(emu, path, token, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

function expectError(r: { status: number; body: any }, status: number, message?: RegExp) {
  expect(r.status).toBe(status);
  expect(r.body).toMatchObject({ message: expect.any(String), errors: [{ description: expect.any(String) }] });
  expect(r.body.trackingId).toMatch(/^ROUTER_/);
  if (message) expect(r.body.message).toMatch(message);
}

/** A group space of alice's with bob in it; returns the room and bob's membership. */
async function groupWithBob() {
  const room = (await send('POST', '/rooms', alice, { title: 'Group' })).body;
  const bobs = (await send('POST', '/memberships', alice, { roomId: room.id, personEmail: 'bob@example.com' })).body;
  const alices = (await get(emu, `/memberships?roomId=${room.id}&personEmail=alice@example.com`, alice)).body.items[0];
  return { room, bobs, alices };
}

describe('PUT /v1/messages/{messageId}', () => {
  it('edits the text and markdown of your own message and stamps updated', async () => {
    const msg = (await send('POST', '/messages', alice, { toPersonEmail: 'bob@example.com', text: 'helo' })).body;
    await control(emu, 'clock', { advanceSeconds: 60 });
    const r = await send('PUT', `/messages/${msg.id}`, alice, { roomId: msg.roomId, markdown: 'hello **bob**' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: msg.id, roomId: msg.roomId, markdown: 'hello **bob**', created: msg.created });
    expect(Date.parse(r.body.updated)).toBeGreaterThan(Date.parse(msg.created));
    const read = (await get(emu, `/messages/${msg.id}`, bob)).body;
    expect(read).toMatchObject({ text: 'hello **bob**', markdown: 'hello **bob**', updated: r.body.updated });
    const plain = await send('PUT', `/messages/${msg.id}`, alice, { roomId: msg.roomId, text: 'just text' });
    expect(plain.body.text).toBe('just text');
    expect(plain.body.markdown).toBeUndefined();
  });

  it('accepts the fetched message back without its html, and refuses markdown with html', async () => {
    const msg = (await send('POST', '/messages', alice, { toPersonEmail: 'bob@example.com', markdown: '*a*' })).body;
    const { html: _html, ...rest } = msg;
    expect((await send('PUT', `/messages/${msg.id}`, alice, { ...rest, markdown: '*b*' })).status).toBe(200);
    expectError(await send('PUT', `/messages/${msg.id}`, alice, { ...msg, markdown: '*c*' }), 400, /html/);
  });

  it('refuses what Webex refuses', async () => {
    const msg = (await send('POST', '/messages', alice, { toPersonEmail: 'bob@example.com', text: 'mine' })).body;
    const path = `/messages/${msg.id}`;
    expectError(await send('PUT', path, alice, { text: 'no room' }), 400, /roomId/);
    expectError(await send('PUT', path, alice, { roomId: msg.roomId }), 400, /text or markdown/);
    expectError(await send('PUT', path, alice, { roomId: msg.roomId, text: '' }), 400);
    expectError(await send('PUT', path, alice, { roomId: msg.roomId, text: 'x'.repeat(7440) }), 400, /7439/);
    const other = (await get(emu, '/rooms', alice)).body.items.find((r: any) => r.title === 'Demo space');
    expectError(await send('PUT', path, alice, { roomId: other.id, text: 'moved' }), 400, /room/);
    expectError(await send('PUT', path, bob, { roomId: msg.roomId, text: 'not yours' }), 403, /posted/);
    expectError(await send('PUT', path, BOT_TOKEN, { roomId: msg.roomId, text: 'cannot read it' }), 404);
    expectError(await send('PUT', '/messages/nope', alice, { roomId: msg.roomId, text: 'x' }), 404);
    const reader = (await login(emu, { scope: 'spark:messages_read' }, 'alice@example.com')).access_token;
    expectError(await send('PUT', path, reader, { roomId: msg.roomId, text: 'no write scope' }), 403);
    const form = await get(emu, path, alice, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'text=x',
    });
    expect(form.status).toBe(415);
    expect((await get(emu, path, alice)).body.text).toBe('mine');
  });

  it('allows 10 edits, then 400', async () => {
    const msg = (await send('POST', '/messages', alice, { toPersonEmail: 'bob@example.com', text: 'v0' })).body;
    for (let i = 1; i <= 10; i++) {
      const r = await send('PUT', `/messages/${msg.id}`, alice, { roomId: msg.roomId, text: `v${i}` });
      expect(r.status, `edit ${i}`).toBe(200);
    }
    expectError(await send('PUT', `/messages/${msg.id}`, alice, { roomId: msg.roomId, text: 'v11' }), 400, /limit/);
    expect((await get(emu, `/messages/${msg.id}`, alice)).body.text).toBe('v10');
  });

  it('refuses to edit a message posted with files', async () => {
    const msg = (
      await send('POST', '/messages', alice, {
        toPersonEmail: 'bob@example.com',
        text: 'see file',
        files: ['https://example.com/a.png'],
      })
    ).body;
    expectError(await send('PUT', `/messages/${msg.id}`, alice, { roomId: msg.roomId, text: 'x' }), 400, /files/);
  });
});

describe('PUT and DELETE /v1/rooms/{roomId}', () => {
  it('renames a group space for every member; refuses direct rooms, bad titles and outsiders', async () => {
    const { room } = await groupWithBob();
    const r = await send('PUT', `/rooms/${room.id}`, bob, { title: '  Renamed  ' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: room.id, title: 'Renamed', type: 'group' });
    expect((await get(emu, `/rooms/${room.id}`, alice)).body.title).toBe('Renamed');
    expectError(await send('PUT', `/rooms/${room.id}`, alice, {}), 400, /title/);
    expectError(await send('PUT', `/rooms/${room.id}`, alice, { title: 'x'.repeat(201) }), 400);
    expectError(await send('PUT', `/rooms/${room.id}`, BOT_TOKEN, { title: 'not a member' }), 404);
    const direct = (await send('POST', '/messages', alice, { toPersonEmail: 'bob@example.com', text: 'hi' })).body;
    expectError(await send('PUT', `/rooms/${direct.roomId}`, alice, { title: 'x' }), 400, /direct/);
    const reader = (await login(emu, { scope: 'spark:rooms_read' }, 'alice@example.com')).access_token;
    expectError(await send('PUT', `/rooms/${room.id}`, reader, { title: 'no write scope' }), 403);
  });

  it('in a moderated space only moderators rename or delete it; a member who deletes it leaves instead', async () => {
    const { room, alices } = await groupWithBob();
    expect((await send('PUT', `/memberships/${alices.id}`, alice, { isModerator: true })).status).toBe(200);
    expectError(await send('PUT', `/rooms/${room.id}`, bob, { title: 'mine now' }), 403, /moderator/);
    expect((await send('DELETE', `/rooms/${room.id}`, bob)).status).toBe(204);
    expectError(await get(emu, `/rooms/${room.id}`, bob), 404);
    const left = (await get(emu, `/memberships?roomId=${room.id}`, alice)).body.items;
    expect(left.map((m: any) => m.personEmail)).toEqual(['alice@example.com']);
  });

  it('deletes a space with its messages; refuses direct rooms and outsiders', async () => {
    const { room } = await groupWithBob();
    const msg = (await send('POST', '/messages', bob, { roomId: room.id, text: 'gone soon' })).body;
    expectError(await send('DELETE', `/rooms/${room.id}`, BOT_TOKEN), 404);
    expect((await send('DELETE', `/rooms/${room.id}`, bob)).status).toBe(204);
    expectError(await get(emu, `/rooms/${room.id}`, alice), 404);
    expectError(await get(emu, `/messages/${msg.id}`, alice), 404);
    expectError(await send('DELETE', `/rooms/${room.id}`, alice), 404);
    const direct = (await send('POST', '/messages', alice, { toPersonEmail: 'bob@example.com', text: 'hi' })).body;
    expectError(await send('DELETE', `/rooms/${direct.roomId}`, alice), 400, /direct/);
  });
});

describe('PUT /v1/memberships/{membershipId}', () => {
  it('makes a member a moderator; once moderated only moderators change moderators', async () => {
    const { room, bobs, alices } = await groupWithBob();
    const r = await send('PUT', `/memberships/${bobs.id}`, alice, { isModerator: true, isRoomHidden: false });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: bobs.id, roomId: room.id, personEmail: 'bob@example.com', isModerator: true });
    expect((await get(emu, `/memberships/${bobs.id}`, alice)).body.isModerator).toBe(true);
    expectError(await send('PUT', `/memberships/${alices.id}`, alice, { isModerator: true }), 403, /moderator/);
    expect((await send('PUT', `/memberships/${alices.id}`, bob, { isModerator: true })).status).toBe(200);
    expect((await send('PUT', `/memberships/${bobs.id}`, alice, { isModerator: false })).body.isModerator).toBe(false);
  });

  it('hides your own direct space; refuses bad bodies, direct moderators and outsiders', async () => {
    const { bobs } = await groupWithBob();
    expectError(await send('PUT', `/memberships/${bobs.id}`, alice, {}), 400, /isModerator/);
    expectError(await send('PUT', `/memberships/${bobs.id}`, alice, { isModerator: 'yes' }), 400, /isModerator/);
    expectError(await send('PUT', `/memberships/${bobs.id}`, BOT_TOKEN, { isModerator: true }), 404);
    expectError(await send('PUT', '/memberships/nope', alice, { isModerator: true }), 404);
    expectError(await send('PUT', `/memberships/${bobs.id}`, bob, { isModerator: false, isRoomHidden: true }), 400);
    const direct = (await send('POST', '/messages', alice, { toPersonEmail: 'bob@example.com', text: 'hi' })).body;
    const mine = (await get(emu, `/memberships?roomId=${direct.roomId}&personEmail=alice@example.com`, alice)).body
      .items[0];
    expectError(await send('PUT', `/memberships/${mine.id}`, alice, { isModerator: true }), 400, /direct/);
    const hidden = await send('PUT', `/memberships/${mine.id}`, alice, { isModerator: false, isRoomHidden: true });
    expect(hidden.status).toBe(200);
    expect(hidden.body.isRoomHidden).toBe(true);
    const reader = (await login(emu, { scope: 'spark:memberships_read' }, 'alice@example.com')).access_token;
    expectError(await send('PUT', `/memberships/${bobs.id}`, reader, { isModerator: true }), 403);
  });
});
