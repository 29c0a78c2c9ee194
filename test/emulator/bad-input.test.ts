/** Bad input on every endpoint → a Webex-shaped 4xx (OAuth shape, REST envelope, or an HTML page), never a 500. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, CREDS, type Emu, IT, REDIRECT, start } from './helpers.js';

let emu: Emu;
beforeAll(async () => {
  emu = await start({ autoConsent: 'alice@example.com' });
});
afterAll(() => emu.close());

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSONH = { 'content-type': 'application/json' };
const BIG = 'x'.repeat(10_000);

interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  auth?: boolean;
}

async function send(c: Case) {
  const headers: Record<string, string> = { ...c.headers };
  if (c.auth) headers.authorization = `Bearer ${BOT_TOKEN}`;
  const r = await fetch(`${emu.url}${c.path}`, {
    method: c.method ?? 'GET',
    headers,
    body: c.body,
    redirect: 'manual',
  });
  return {
    status: r.status,
    type: r.headers.get('content-type') ?? '',
    tracking: r.headers.get('trackingid'),
    text: await r.text(),
  };
}

function expectWebexShaped(r: Awaited<ReturnType<typeof send>>) {
  expect(r.status).toBeGreaterThanOrEqual(400);
  expect(r.status).toBeLessThan(500);
  expect(r.tracking).toMatch(/^ROUTER_/);
  if (r.type.startsWith('text/html')) {
    expect(r.text).toContain('<!doctype html>');
    return;
  }
  expect(r.type).toBe('application/json;charset=UTF-8');
  const body = JSON.parse(r.text);
  if ('error' in body) {
    expect(typeof body.error_description).toBe('string');
    expect(body.trackingID).toBe(r.tracking);
  } else {
    expect(typeof body.message).toBe('string');
    expect(body.trackingId).toBe(r.tracking);
  }
  expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
}

const tokenForm = (fields: string) => ({ method: 'POST', path: '/v1/access_token', headers: FORM, body: fields });
const creds = new URLSearchParams(CREDS).toString();
const authQ = `client_id=${IT.clientId}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=spark%3Aall`;

const CASES: Case[] = [
  // token endpoint
  { name: 'token: no body', method: 'POST', path: '/v1/access_token' },
  { name: 'token: missing grant_type', ...tokenForm(creds) },
  { name: 'token: unknown grant', ...tokenForm(`grant_type=client_credentials&${creds}`) },
  { name: 'token: password grant', ...tokenForm(`grant_type=password&${creds}`) },
  {
    name: 'token: device grant at access_token',
    ...tokenForm(`grant_type=urn:ietf:params:oauth:grant-type:device_code&${creds}`),
  },
  {
    name: 'token: duplicated grant_type',
    ...tokenForm(`grant_type=refresh_token&grant_type=refresh_token&refresh_token=x&${creds}`),
  },
  {
    name: 'token: duplicated across query and body',
    method: 'POST',
    path: `/v1/access_token?grant_type=refresh_token`,
    headers: FORM,
    body: `grant_type=refresh_token&refresh_token=x&${creds}`,
  },
  { name: 'token: oversized refresh_token', ...tokenForm(`grant_type=refresh_token&refresh_token=${BIG}&${creds}`) },
  { name: 'token: missing refresh_token', ...tokenForm(`grant_type=refresh_token&${creds}`) },
  {
    name: 'token: missing code',
    ...tokenForm(`grant_type=authorization_code&redirect_uri=${encodeURIComponent(REDIRECT)}&${creds}`),
  },
  { name: 'token: missing client', ...tokenForm('grant_type=refresh_token&refresh_token=x') },
  {
    name: 'token: JSON content type',
    method: 'POST',
    path: '/v1/access_token',
    headers: JSONH,
    body: JSON.stringify({ grant_type: 'refresh_token', ...CREDS }),
  },
  {
    name: 'token: text/plain',
    method: 'POST',
    path: '/v1/access_token',
    headers: { 'content-type': 'text/plain' },
    body: 'grant_type=refresh_token',
  },
  { name: 'token: malformed JSON', method: 'POST', path: '/v1/access_token', headers: JSONH, body: '{"grant_type":' },
  {
    name: 'token: garbage Basic',
    method: 'POST',
    path: '/v1/access_token',
    headers: { ...FORM, authorization: 'Basic %%%' },
    body: 'grant_type=refresh_token&refresh_token=x',
  },
  { name: 'token: body too large', ...tokenForm(`grant_type=refresh_token&pad=${'y'.repeat(300_000)}`) },
  { name: 'token: GET', path: '/v1/access_token' },
  // device grant
  {
    name: 'device authorize: no client',
    method: 'POST',
    path: '/v1/device/authorize',
    headers: FORM,
    body: 'scope=spark%3Aall',
  },
  {
    name: 'device authorize: unknown client',
    method: 'POST',
    path: '/v1/device/authorize',
    headers: FORM,
    body: 'client_id=nope&scope=spark%3Aall',
  },
  {
    name: 'device authorize: oidc scope',
    method: 'POST',
    path: '/v1/device/authorize',
    headers: FORM,
    body: `client_id=${IT.clientId}&scope=openid`,
  },
  { name: 'device authorize: JSON', method: 'POST', path: '/v1/device/authorize', headers: JSONH, body: '{}' },
  {
    name: 'device authorize: duplicated',
    method: 'POST',
    path: '/v1/device/authorize',
    headers: FORM,
    body: `client_id=${IT.clientId}&client_id=${IT.clientId}&scope=spark%3Aall`,
  },
  {
    name: 'device token: unknown grant',
    method: 'POST',
    path: '/v1/device/token',
    headers: FORM,
    body: `grant_type=foo&${creds}`,
  },
  {
    name: 'device token: missing device_code',
    method: 'POST',
    path: '/v1/device/token',
    headers: FORM,
    body: `grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&${creds}`,
  },
  {
    name: 'device token: bad device_code',
    method: 'POST',
    path: '/v1/device/token',
    headers: FORM,
    body: `grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=zz&${creds}`,
  },
  { name: 'device verify: empty post', method: 'POST', path: '/v1/device/verify', headers: FORM, body: '' },
  {
    name: 'device verify: duplicated',
    method: 'POST',
    path: '/v1/device/verify',
    headers: FORM,
    body: 'user_code=a&user_code=b',
  },
  // authorize
  { name: 'authorize: nothing', path: '/v1/authorize' },
  { name: 'authorize: duplicated client_id', path: `/v1/authorize?${authQ}&client_id=${IT.clientId}` },
  { name: 'authorize: oversized client_id', path: `/v1/authorize?client_id=${'C'.repeat(5000)}` },
  { name: 'authorize: duplicated redirect_uri', path: `/v1/authorize?${authQ}&redirect_uri=x` },
  {
    name: 'authorize post: unknown request',
    method: 'POST',
    path: '/v1/authorize',
    headers: FORM,
    body: 'request=zz&email=a&decision=accept',
  },
  {
    name: 'authorize post: duplicated',
    method: 'POST',
    path: '/v1/authorize',
    headers: FORM,
    body: 'request=a&request=b',
  },
  { name: 'authorize post: JSON', method: 'POST', path: '/v1/authorize', headers: JSONH, body: '{"request":1}' },
  { name: 'authorize post: malformed JSON', method: 'POST', path: '/v1/authorize', headers: JSONH, body: '{' },
  // REST
  { name: 'rooms: duplicated max', path: '/v1/rooms?max=1&max=2', auth: true },
  { name: 'rooms: bad type', path: '/v1/rooms?type=weird', auth: true },
  { name: 'rooms: bad sortBy', path: '/v1/rooms?sortBy=weird', auth: true },
  { name: 'rooms: bad cursor', path: '/v1/rooms?cursor=%%%', auth: true },
  { name: 'rooms: oversized param', path: `/v1/rooms?teamId=${'t'.repeat(3000)}`, auth: true },
  { name: 'rooms/{id}: unknown', path: '/v1/rooms/nope', auth: true },
  { name: 'rooms/{id}: huge id', path: `/v1/rooms/${'r'.repeat(1000)}`, auth: true },
  { name: 'rooms/{id}: bad percent-encoding', path: '/v1/rooms/%E0%A4%A', auth: true },
  { name: 'rooms: bad percent-encoding in query', path: '/v1/rooms?max=%zz', auth: true },
  { name: 'rooms: create without body', method: 'POST', path: '/v1/rooms', auth: true },
  { name: 'rooms: create form', method: 'POST', path: '/v1/rooms', headers: FORM, body: 'title=x', auth: true },
  {
    name: 'rooms: create empty title',
    method: 'POST',
    path: '/v1/rooms',
    headers: JSONH,
    body: '{"title":""}',
    auth: true,
  },
  {
    name: 'rooms: create wrong type',
    method: 'POST',
    path: '/v1/rooms',
    headers: JSONH,
    body: '{"title":5}',
    auth: true,
  },
  { name: 'rooms: create array body', method: 'POST', path: '/v1/rooms', headers: JSONH, body: '[1,2]', auth: true },
  { name: 'memberships: personEmail without roomId', path: '/v1/memberships?personEmail=a@b.c', auth: true },
  {
    name: 'memberships: create missing person',
    method: 'POST',
    path: '/v1/memberships',
    headers: JSONH,
    body: '{"roomId":"x"}',
    auth: true,
  },
  {
    name: 'memberships: create both persons',
    method: 'POST',
    path: '/v1/memberships',
    headers: JSONH,
    body: '{"roomId":"x","personId":"a","personEmail":"b@c.d"}',
    auth: true,
  },
  {
    name: 'memberships: create unknown room',
    method: 'POST',
    path: '/v1/memberships',
    headers: JSONH,
    body: '{"roomId":"x","personEmail":"bob@example.com"}',
    auth: true,
  },
  { name: 'memberships: delete unknown', method: 'DELETE', path: '/v1/memberships/nope', auth: true },
  { name: 'messages: no roomId', path: '/v1/messages', auth: true },
  { name: 'messages: bad before', path: '/v1/messages?roomId=x&before=yesterday', auth: true },
  { name: 'messages: max 0', path: '/v1/messages?roomId=x&max=0', auth: true },
  {
    name: 'messages: create no text',
    method: 'POST',
    path: '/v1/messages',
    headers: JSONH,
    body: '{"roomId":"x"}',
    auth: true,
  },
  {
    name: 'messages: create two targets',
    method: 'POST',
    path: '/v1/messages',
    headers: JSONH,
    body: '{"roomId":"x","toPersonEmail":"a@b.c","text":"t"}',
    auth: true,
  },
  {
    name: 'messages: create oversized text',
    method: 'POST',
    path: '/v1/messages',
    headers: JSONH,
    body: JSON.stringify({ roomId: 'x', text: 'é'.repeat(4000) }),
    auth: true,
  },
  {
    name: 'messages: create text/plain',
    method: 'POST',
    path: '/v1/messages',
    headers: { 'content-type': 'text/plain' },
    body: 'hi',
    auth: true,
  },
  { name: 'messages: get unknown', path: '/v1/messages/nope', auth: true },
  { name: 'people: no filter', path: '/v1/people', auth: true },
  { name: 'people/{id}: unknown', path: '/v1/people/nope', auth: true },
  { name: 'people/me: wrong scheme', path: '/v1/people/me', headers: { authorization: 'Basic abc' } },
  { name: 'people/me: empty bearer', path: '/v1/people/me', headers: { authorization: 'Bearer ' } },
  { name: 'userinfo: bot token without openid', path: '/v1/userinfo', auth: true },
  { name: 'webfinger: no resource', path: '/v1/.well-known/webfinger' },
  { name: 'unknown route', path: '/v1/teams', auth: true },
  { name: 'unknown method', method: 'PATCH', path: '/v1/people/me', auth: true },
  // control API
  { name: 'clock: no body', method: 'POST', path: '/_emulator/clock' },
  {
    name: 'clock: string seconds',
    method: 'POST',
    path: '/_emulator/clock',
    headers: JSONH,
    body: '{"advanceSeconds":"10"}',
  },
  {
    name: 'faults: bad endpoint',
    method: 'POST',
    path: '/_emulator/faults',
    headers: JSONH,
    body: '{"endpoint":"nope"}',
  },
  {
    name: 'faults: bad status',
    method: 'POST',
    path: '/_emulator/faults',
    headers: JSONH,
    body: '{"endpoint":"rest","status":418}',
  },
  {
    name: 'faults: rate > 1',
    method: 'POST',
    path: '/_emulator/faults',
    headers: JSONH,
    body: '{"endpoint":"rest","rate":2}',
  },
  { name: 'revoke: empty', method: 'POST', path: '/_emulator/revoke', headers: JSONH, body: '{}' },
  {
    name: 'revoke: unknown email',
    method: 'POST',
    path: '/_emulator/revoke',
    headers: JSONH,
    body: '{"email":"nobody@example.com"}',
  },
  {
    name: 'revoke: unknown refresh token',
    method: 'POST',
    path: '/_emulator/revoke',
    headers: JSONH,
    body: '{"refreshToken":"zz"}',
  },
];

describe('bad input → Webex-shaped 4xx, never 500', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expectWebexShaped(await send(c));
  });

  it('the expected statuses and error codes for the key cases', async () => {
    const byName = async (name: string) => send(CASES.find((c) => c.name === name) as Case);
    expect(JSON.parse((await byName('token: unknown grant')).text).error).toBe('unsupported_grant_type');
    expect(JSON.parse((await byName('token: missing grant_type')).text).error).toBe('invalid_request');
    expect(JSON.parse((await byName('token: duplicated grant_type')).text).error).toBe('invalid_request');
    expect((await byName('token: JSON content type')).status).toBe(415);
    expect(JSON.parse((await byName('token: JSON content type')).text).message).toBe(
      "Content type 'application/json' not supported",
    );
    expect((await byName('token: body too large')).status).toBe(413);
    expect((await byName('token: missing client')).status).toBe(401);
    expect(JSON.parse((await byName('messages: no roomId')).text).message).toBe(
      "Required String parameter 'roomId' is not present",
    );
    expect((await byName('messages: create text/plain')).status).toBe(415);
    expect(JSON.parse((await byName('device authorize: unknown client')).text).errors[0].description).toBe(
      'Client Id is invalid',
    );
    expect((await byName('unknown route')).status).toBe(404);
  });

  it('random form bodies and query strings never produce a 5xx (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.string({ maxLength: 100 }), async (body, query) => {
        const q = encodeURIComponent(query);
        for (const path of ['/v1/access_token', '/v1/device/token', '/v1/device/authorize', '/v1/authorize']) {
          const r = await fetch(`${emu.url}${path}?${q}=${q}`, {
            method: 'POST',
            headers: FORM,
            body,
            redirect: 'manual',
          });
          await r.arrayBuffer();
          expect(r.status).toBeLessThan(500);
        }
        const g = await fetch(`${emu.url}/v1/authorize?${body}`, { redirect: 'manual' });
        await g.arrayBuffer();
        expect(g.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });
});
