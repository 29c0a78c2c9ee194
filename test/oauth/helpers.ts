import type { FetchLike, Integration } from '../../src/oauth/types.js';

export const integration: Integration = {
  clientId: 'C0123456789abcdef',
  clientSecret: 'SECRET-canary-0f9e8d7c',
  redirectUri: 'http://localhost:8080/oauth',
  apiBase: 'https://webexapis.example/v1/',
};

/** A recorded request. */
export interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/** A fetch that answers from a queue of handlers and records every request. */
export function fakeFetch(...answers: Array<Response | ((req: Seen) => Response | Promise<Response>)>): {
  fetch: FetchLike;
  seen: Seen[];
} {
  const seen: Seen[] = [];
  const fetch: FetchLike = async (input, init) => {
    const req: Seen = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: init?.body == null ? '' : String(init.body),
    };
    seen.push(req);
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return typeof next === 'function' ? next(req) : next;
  };
  return { fetch, seen };
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json;charset=UTF-8', ...headers },
  });

export const tokenBody = (extra: Record<string, unknown> = {}) => ({
  access_token: 'AT-canary-1111_PF84_org',
  expires_in: 1209599,
  refresh_token: 'RT-canary-2222_PF84_org',
  refresh_token_expires_in: 7775999,
  token_type: 'Bearer',
  scope: 'spark:people_read spark:rooms_read',
  ...extra,
});
