/** A hand-made token endpoint (real `Response` objects) for unit tests of the refresher. */
import type { FetchLike } from '../../src/oauth/types.js';

/** What the fake answers next: a token response, or an error status (with optional body and Retry-After). */
export type Answer =
  | { ok: true; refreshToken?: string | null; expiresIn?: number; refreshExpiresIn?: number }
  | { status: number; body?: unknown; retryAfter?: number };

/** A fake Webex token endpoint plus a webhook receiver, both behind one fetch. */
export function fakeWebex() {
  const answers: Answer[] = [];
  const tokenCalls: URLSearchParams[] = [];
  const webhooks: Array<{ body: string; headers: Record<string, string> }> = [];
  let n = 0;
  let gate: Promise<void> | undefined;
  const fetch: FetchLike = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.startsWith('https://hooks.test/')) {
      webhooks.push({ body: String(init?.body), headers: Object.fromEntries(new Headers(init?.headers)) });
      return new Response(null, { status: 204 });
    }
    tokenCalls.push(new URLSearchParams(String(init?.body)));
    if (gate) await gate;
    const a = answers.shift() ?? { ok: true };
    if ('status' in a) {
      return new Response(JSON.stringify(a.body ?? { message: 'error' }), {
        status: a.status,
        headers: {
          'content-type': 'application/json',
          ...(a.retryAfter ? { 'retry-after': String(a.retryAfter) } : {}),
        },
      });
    }
    n++;
    const body: Record<string, unknown> = {
      access_token: `ACCESS-${n}`,
      expires_in: a.expiresIn ?? 1_209_599,
      refresh_token_expires_in: a.refreshExpiresIn ?? 7_775_999,
      token_type: 'Bearer',
      scope: 'spark:all',
    };
    if (a.refreshToken !== null) body.refresh_token = a.refreshToken ?? 'REFRESH-0';
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return {
    fetch,
    answers,
    tokenCalls,
    webhooks,
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
