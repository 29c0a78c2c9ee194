import { describe, expect, it } from 'vitest';
import { WebexClient } from '../../src/webex/client.js';
import { WebexApiError } from '../../src/webex/errors.js';
import { nextLink } from '../../src/webex/link.js';
import { fakeFetch, json } from '../oauth/helpers.js';

const BASE = 'https://webexapis.example/v1';
const TOKEN = 'AT-canary-rest';
const person = { id: 'P1', emails: ['alice@example.com'], displayName: 'Alice Example', nickName: 'Al', extra: 1 };
const room = (id: string) => ({ id, title: `Room ${id}`, type: 'group', isLocked: false });

function client(fetch: ReturnType<typeof fakeFetch>['fetch'], extra: { sleep?: (ms: number) => Promise<void> } = {}) {
  return new WebexClient({ apiBase: `${BASE}/`, accessToken: TOKEN, fetch, maxRetries: 2, ...extra });
}

async function apiError(p: Promise<unknown>): Promise<WebexApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WebexApiError);
    expect((e as Error).message).not.toContain(TOKEN);
    return e as WebexApiError;
  }
  throw new Error('expected a WebexApiError');
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('WebexClient', () => {
  it('gets people/me with the bearer token and keeps unknown fields', async () => {
    const { fetch, seen } = fakeFetch(json(person));
    const me = await client(fetch).peopleMe();
    expect(seen[0]?.url).toBe(`${BASE}/people/me`);
    expect(seen[0]?.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(me).toEqual(person);
  });

  it('gets a person by id, url-encoding it', async () => {
    const { fetch, seen } = fakeFetch(json(person));
    await client(fetch).getPerson('a/b');
    expect(seen[0]?.url).toBe(`${BASE}/people/a%2Fb`);
  });

  it('follows Link rel="next" until absent, including an empty page', async () => {
    const { fetch, seen } = fakeFetch(
      json({ items: [room('1'), room('2')] }, 200, { Link: `<${BASE}/rooms?max=2&cursor=abc>; rel="next"` }),
      json({ items: [] }, 200, { Link: `<${BASE}/rooms?max=2&cursor=def>; rel="next"` }),
      json({ items: [room('3')] }),
    );
    const rooms = await all(client(fetch).listRooms({ max: 2, type: 'group', sortBy: 'lastactivity' }));
    expect(rooms.map((r) => r.id)).toEqual(['1', '2', '3']);
    expect(seen.map((s) => s.url)).toEqual([
      `${BASE}/rooms?max=2&type=group&sortBy=lastactivity`,
      `${BASE}/rooms?max=2&cursor=abc`,
      `${BASE}/rooms?max=2&cursor=def`,
    ]);
  });

  it('refuses to send the token to a next link on another origin', async () => {
    const { fetch, seen } = fakeFetch(
      json({ items: [room('1')] }, 200, { Link: '<https://evil.example/v1/rooms>; rel="next"' }),
    );
    const it = client(fetch).listRooms();
    const e = await apiError(all(it));
    expect(e.description).toMatch(/outside the API base/);
    expect(seen).toHaveLength(1);
  });

  it('lists memberships and messages with their queries, and creates both', async () => {
    const { fetch, seen } = fakeFetch(
      json({ items: [{ id: 'M1', roomId: 'R1', personEmail: 'a@x' }] }),
      json({ items: [{ id: 'G1', roomId: 'R1', text: 'hi' }] }),
      json({ id: 'M2', roomId: 'R1' }),
      json({ id: 'G2', roomId: 'R1', text: 'hello' }),
    );
    const c = client(fetch);
    expect(await all(c.listMemberships({ roomId: 'R1' }))).toHaveLength(1);
    expect(await all(c.listMessages({ roomId: 'R1', mentionedPeople: 'me', max: 10 }))).toHaveLength(1);
    expect((await c.createMembership({ roomId: 'R1', personEmail: 'b@x' })).id).toBe('M2');
    expect((await c.createMessage({ roomId: 'R1', text: 'hello' })).id).toBe('G2');
    expect(seen[0]?.url).toBe(`${BASE}/memberships?roomId=R1`);
    expect(seen[1]?.url).toBe(`${BASE}/messages?roomId=R1&mentionedPeople=me&max=10`);
    expect(seen[2]).toMatchObject({ method: 'POST', body: JSON.stringify({ roomId: 'R1', personEmail: 'b@x' }) });
    expect(seen[3]?.headers.get('content-type')).toBe('application/json');
  });

  it('maps 401, 404 and 5xx envelopes to WebexApiError with the tracking id', async () => {
    const msg401 = 'The request requires a valid access token set in the Authorization request header.';
    const { fetch } = fakeFetch(
      json({ message: msg401, errors: [{ description: msg401 }], trackingId: 'ROUTER_A' }, 401, {
        TrackingID: 'ROUTER_A',
      }),
      json({ message: 'Could not find a room with provided ID.', trackingId: 'ROUTER_B' }, 404),
      new Response('<html>bad gateway</html>', { status: 502 }),
    );
    const c = client(fetch);
    expect(await apiError(c.peopleMe())).toMatchObject({
      status: 401,
      trackingId: 'ROUTER_A',
      description: msg401,
      requiredScopes: [],
    });
    expect(await apiError(all(c.listMessages({ roomId: 'nope' })))).toMatchObject({
      status: 404,
      trackingId: 'ROUTER_B',
      endpoint: 'GET /messages',
    });
    expect(await apiError(c.peopleMe())).toMatchObject({ status: 502, description: undefined });
  });

  it('explains a 403 with the scopes the endpoint needs', async () => {
    const { fetch } = fakeFetch(json({ message: 'missing required scopes' }, 403), json({ message: 'no' }, 403));
    const c = client(fetch);
    expect((await apiError(all(c.listRooms()))).requiredScopes).toEqual(['spark:rooms_read', 'spark:all']);
    expect((await apiError(c.createMessage({ roomId: 'R', text: 'x' }))).requiredScopes).toEqual([
      'spark:messages_write',
      'spark:all',
    ]);
  });

  it('retries 429 after Retry-After up to maxRetries, then gives up with retryAfter', async () => {
    const r429 = (s: string) =>
      new Response('<html>Too Many Requests</html>', { status: 429, headers: { 'Retry-After': s } });
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const ok = fakeFetch(r429('2'), r429('1'), json(person));
    expect((await client(ok.fetch, { sleep }).peopleMe()).id).toBe('P1');
    expect(waits).toEqual([2000, 1000]);
    const fail = fakeFetch(r429('1'), r429('1'), r429('9'));
    const e = await apiError(client(fail.fetch, { sleep }).peopleMe());
    expect(e).toMatchObject({ status: 429, retryAfter: 9 });
    expect(fail.seen).toHaveLength(3);
  });

  it('maps a network failure to status 0 and an unexpected body to an error naming the field', async () => {
    const c = client(() => Promise.reject(new TypeError('fetch failed')));
    expect((await apiError(c.peopleMe())).status).toBe(0);
    const { fetch } = fakeFetch(json({ id: 'P1', emails: 'not-a-list', displayName: 'A' }));
    expect((await apiError(client(fetch).peopleMe())).description).toContain('emails');
  });

  it('request() returns status, body, tracking id and duration without throwing on HTTP errors', async () => {
    const { fetch, seen } = fakeFetch(json({ message: 'no' }, 403, { TrackingID: 'ROUTER_C' }), new Response('plain'));
    let t = 0;
    const c = new WebexClient({ apiBase: BASE, accessToken: TOKEN, fetch, now: () => (t += 5) });
    expect(await c.request('GET', '/rooms', { query: { max: 1 } })).toEqual({
      status: 403,
      body: { message: 'no' },
      trackingId: 'ROUTER_C',
      durationMs: 5,
    });
    expect((await c.request('POST', '/messages', { body: { text: 'x' } })).body).toBe('plain');
    expect(seen[0]?.url).toBe(`${BASE}/rooms?max=1`);
  });

  it('request() never sends the token outside the API base', async () => {
    const { fetch, seen } = fakeFetch();
    const c = new WebexClient({ apiBase: BASE, accessToken: TOKEN, fetch });
    await expect(c.request('GET', 'https://evil.example/x')).rejects.toBeInstanceOf(WebexApiError);
    await expect(c.request('GET', '//evil.example/x')).rejects.toBeInstanceOf(WebexApiError);
    await expect(c.request('GET', '@evil.example/x')).rejects.toBeInstanceOf(WebexApiError);
    await expect(c.request('TRACE', '/rooms')).rejects.toBeInstanceOf(WebexApiError);
    expect(seen).toHaveLength(0);
  });

  it('request() accepts a path that repeats the base path (/v1/people/me)', async () => {
    const { fetch, seen } = fakeFetch(json(person));
    const c = new WebexClient({ apiBase: BASE, accessToken: TOKEN, fetch });
    expect((await c.request('get', '/v1/people/me')).status).toBe(200);
    expect(seen[0]).toMatchObject({ url: `${BASE}/people/me`, method: 'GET' });
  });
});

describe('nextLink', () => {
  it('finds rel="next" among several links, resolves relative URLs, and ignores others', () => {
    expect(nextLink('<https://a/v1/x?c=1>; rel="next"', BASE)).toBe('https://a/v1/x?c=1');
    expect(nextLink('<https://a/p>; rel="prev", <https://a/n>; rel="next"', BASE)).toBe('https://a/n');
    expect(nextLink('</v1/rooms?c=2>; rel=next', BASE)).toBe('https://webexapis.example/v1/rooms?c=2');
    expect(nextLink('<https://a/p>; rel="prev"', BASE)).toBeUndefined();
    expect(nextLink(null, BASE)).toBeUndefined();
    expect(nextLink('garbage', BASE)).toBeUndefined();
  });
});
