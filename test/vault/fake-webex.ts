/**
 * The one hand-made Webex of the unit-level tests (vault, broker and app.inject() page tests), as real `Response`
 * objects behind one fetch: the token endpoint (scripted answers), `people/me`, `rooms`, and a webhook receiver at
 * `https://hooks.test/`. Tests of whole flows use the real emulator (src/emulator) instead.
 */
import type { FetchLike } from '../../src/oauth/types.js';

/** What the token endpoint answers next: a token response, or an error status (with optional body and Retry-After). */
export type Answer =
  | { ok: true; refreshToken?: string | null; expiresIn?: number; refreshExpiresIn?: number }
  | { status: number; body?: unknown; retryAfter?: number };

/** Options of {@link fakeWebex}. */
export interface FakeWebexOptions {
  /** Scopes granted: the token's `scope` (default `spark:all`); `people/me` answers 403 without `spark:people_read`. */
  granted?: string[];
  /** Every token request fails with this OAuth error (400), e.g. `invalid_grant`. */
  tokenError?: string;
  /** The access token of every grant (default `ACCESS-<n>`, n counting from 1). */
  accessToken?: string;
  /** The refresh token of a grant whose answer names none (default `REFRESH-0`). */
  refreshToken?: string;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json;charset=UTF-8', trackingid: 'ROUTER_TEST', ...headers },
  });

/** A fake Webex: token endpoint, `people/me`, `rooms` and a webhook receiver, all behind one fetch. */
export function fakeWebex(options: FakeWebexOptions = {}) {
  const answers: Answer[] = [];
  const tokenCalls: URLSearchParams[] = [];
  const webhooks: Array<{ body: string; headers: Record<string, string> }> = [];
  const calls = { token: 0, peopleMe: 0, bodies: [] as string[] };
  const granted = options.granted ?? ['spark:all'];
  let n = 0;
  let gate: Promise<void> | undefined;

  async function token(body: string): Promise<Response> {
    calls.token++;
    calls.bodies.push(body);
    tokenCalls.push(new URLSearchParams(body));
    if (gate) await gate;
    if (options.tokenError) {
      return json(400, { error: options.tokenError, error_description: 'The code is <b>bad</b>' });
    }
    const a = answers.shift() ?? { ok: true };
    if ('status' in a) {
      return json(
        a.status,
        a.body ?? { message: 'error' },
        a.retryAfter ? { 'retry-after': String(a.retryAfter) } : {},
      );
    }
    n++;
    const answer: Record<string, unknown> = {
      access_token: options.accessToken ?? `ACCESS-${n}`,
      expires_in: a.expiresIn ?? 1_209_599,
      refresh_token_expires_in: a.refreshExpiresIn ?? 7_775_999,
      token_type: 'Bearer',
      scope: granted.join(' '),
    };
    if (a.refreshToken !== null) answer.refresh_token = a.refreshToken ?? options.refreshToken ?? 'REFRESH-0';
    return json(200, answer);
  }

  const fetch: FetchLike = async (input, init) => {
    const href = String(input instanceof Request ? input.url : input);
    if (href.startsWith('https://hooks.test/')) {
      webhooks.push({ body: String(init?.body), headers: Object.fromEntries(new Headers(init?.headers)) });
      return new Response(null, { status: 204 });
    }
    const path = new URL(href).pathname;
    if (path.endsWith('/access_token')) return token(String(init?.body ?? ''));
    if (path.endsWith('/people/me')) {
      calls.peopleMe++;
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
    if (path.endsWith('/rooms')) return json(200, { items: [] });
    return json(404, { message: 'not found' });
  };

  return {
    fetch,
    /** Token answers to give, in order (then plain grants). */
    answers,
    /** Each token request's form. */
    tokenCalls,
    /** Each webhook delivered to `https://hooks.test/`. */
    webhooks,
    /** Counts of token exchanges and `people/me` calls, and each token request's body. */
    calls,
    /** Holds token answers until the returned function is called. */
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((r) => {
        release = r;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}
