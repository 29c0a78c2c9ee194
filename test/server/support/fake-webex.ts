/** A hand-made Webex for unit-level app.inject() tests: token endpoint + people/me + rooms, as real Response objects. */
import type { FetchLike } from '../../../src/oauth/types.js';

/** Options of {@link fakeWebex}. */
export interface FakeWebexOptions {
  /** Scopes granted (people/me answers 403 without spark:people_read). */
  granted?: string[];
  /** Token endpoint error, e.g. `invalid_grant`. */
  tokenError?: string;
}

/** A fetch that answers like Webex, and counts token exchanges. */
export function fakeWebex(options: FakeWebexOptions = {}) {
  const calls = { token: 0, peopleMe: 0, bodies: [] as string[] };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json;charset=UTF-8', trackingid: 'ROUTER_TEST' },
    });
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    if (url.pathname.endsWith('/access_token')) {
      calls.token++;
      calls.bodies.push(String(init?.body ?? ''));
      if (options.tokenError)
        return json(400, { error: options.tokenError, error_description: 'The code is <b>bad</b>' });
      const scope = (options.granted ?? ['spark:people_read', 'spark:rooms_read']).join(' ');
      return json(200, {
        access_token: 'ACCESS_canary_token_value_0123456789',
        expires_in: 1209599,
        refresh_token: 'REFRESH_canary_token_value_0123456789',
        refresh_token_expires_in: 7775999,
        token_type: 'Bearer',
        scope,
      });
    }
    if (url.pathname.endsWith('/people/me')) {
      calls.peopleMe++;
      const granted = options.granted ?? ['spark:people_read', 'spark:rooms_read'];
      if (!granted.includes('spark:people_read') && !granted.includes('spark:all')) {
        return json(403, {
          message: 'The server understood the request, but refused to fulfill it.',
          trackingId: 'ROUTER_TEST',
        });
      }
      return json(200, {
        id: 'Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hbGljZQ',
        emails: ['alice@example.com'],
        displayName: 'Alice <b>Example</b>',
        type: 'person',
      });
    }
    if (url.pathname.endsWith('/rooms')) return json(200, { items: [] });
    return json(404, { message: 'not found' });
  };
  return { fetch, calls };
}
