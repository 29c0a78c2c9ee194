/**
 * Property tests (fast-check) that throw random input at a real `serve` process and the real emulator over HTTP: the
 * web app's callback, the broker's token API and the emulator's authorize, token and REST endpoints. Properties: no
 * response is a 5xx, and no injected marker comes back unescaped. Shared by CI (1,000 inputs) and the long suite
 * (10,000).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Stack } from './stack.js';
import { HttpBrowser } from './support.js';

/** Counts per target. */
export interface FuzzResult {
  inputs: number;
  fiveXX: number;
  unescaped: number;
  statuses: Record<string, number>;
}

/** A value with a unique HTML marker appended; `marker` is what must never appear raw in a response. */
const marked = (n: number) =>
  fc.tuple(fc.string({ unit: 'binary', maxLength: 40 }), fc.constant(n)).map(([s, i]) => {
    const marker = `<b id="fz${i}">`;
    return { value: `${s}${marker}'"`, marker };
  });

const paramName = fc.oneof(
  fc.constantFrom('code', 'state', 'error', 'error_description', 'error_uri', 'scope', 'iss', 'session_state'),
  fc.string({ maxLength: 12 }),
);

/** Printable ASCII, what a header value may hold. */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});

function count(result: FuzzResult, target: string, status: number) {
  result.statuses[`${target} ${status}`] = (result.statuses[`${target} ${status}`] ?? 0) + 1;
  if (status >= 500) result.fiveXX++;
}

/** Runs `runs` inputs split over the three targets (40% callback, 30% token API, 30% emulator). */
export async function fuzz(stack: Stack, runs: number, apiKey: string, connectionId: string): Promise<FuzzResult> {
  const result: FuzzResult = { inputs: 0, fiveXX: 0, unescaped: 0, statuses: {} };
  const browser = new HttpBrowser(stack.server.url);
  await browser.authorizeUntilCallback(['spark:all']); // a session with a pending authorization
  let n = 0;
  const check = (body: string, markers: string[]) => {
    for (const m of markers) if (body.includes(m)) result.unescaped++;
  };

  // 1. The callback: random query parameters, some with HTML markers.
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(paramName, marked(n++)), { maxLength: 6 }),
      fc.constantFrom('/oauth', '/webex-auth.html', '/'),
      async (pairs, path) => {
        const q = new URLSearchParams();
        for (const [k, v] of pairs) q.append(k, v.value);
        const { res, body } = await browser.get(`${path}?${q}`);
        result.inputs++;
        count(result, 'callback', res.status);
        check(
          body,
          pairs.map(([, v]) => v.marker),
        );
        return res.status < 500;
      },
    ),
    { numRuns: Math.round(runs * 0.4) },
  );

  // 2. The broker's token API: random ids, query values and Authorization headers (and sometimes a valid key).
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.constant(connectionId), fc.string({ unit: 'binary', maxLength: 120 })),
      fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.integer().map(String)), { nil: undefined }),
      fc.oneof(
        fc.constant(`Bearer ${apiKey}`),
        headerValue,
        headerValue.map((h) => `Bearer ${h}`),
      ),
      fc.constantFrom('GET /token', 'POST /refresh', 'GET /list'),
      async (id, minValidity, authorization, route) => {
        const [method, what] = route.split(' ') as [string, string];
        const url =
          what === '/list'
            ? '/api/v1/connections'
            : `/api/v1/connections/${encodeURIComponent(id)}${what}${minValidity === undefined ? '' : `?min_validity=${encodeURIComponent(minValidity)}`}`;
        const res = await fetch(`${stack.server.url}${url}`, { method, headers: { authorization } });
        await res.text();
        result.inputs++;
        count(result, 'api', res.status);
        if (res.status >= 400)
          expect(res.headers.get('content-type') ?? '', `${method} ${url}`).toMatch(/problem\+json/);
        return res.status < 500;
      },
    ),
    { numRuns: Math.round(runs * 0.3) },
  );

  // 3. The emulator: authorize (HTML, reflects parameters), the token endpoint and REST with random input.
  const emu = stack.emulator;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('authorize', 'token', 'rest', 'consent'),
      fc.array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom(
              'client_id',
              'redirect_uri',
              'response_type',
              'scope',
              'state',
              'code_challenge',
              'grant_type',
              'code',
              'refresh_token',
              'client_secret',
              'max',
              'request',
              'email',
              'decision',
            ),
            fc.string({ maxLength: 10 }),
          ),
          marked(n++),
        ),
        { maxLength: 6 },
      ),
      fc.string({ unit: 'binary', maxLength: 60 }),
      async (endpoint, pairs, pathPart) => {
        const q = new URLSearchParams();
        for (const [k, v] of pairs) q.append(k, v.value);
        let res: Response;
        if (endpoint === 'authorize') res = await fetch(`${emu.apiBase}/authorize?${q}`, { redirect: 'manual' });
        else if (endpoint === 'consent' || endpoint === 'token')
          res = await fetch(`${emu.apiBase}/${endpoint === 'token' ? 'access_token' : 'authorize'}`, {
            method: 'POST',
            redirect: 'manual',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: q.toString(),
          });
        else
          res = await fetch(`${emu.apiBase}/${encodeURIComponent(pathPart)}?${q}`, {
            headers: { authorization: `Bearer ${pairs[0]?.[1].value.replace(/[^\x20-\x7e]/g, '') ?? ''}` },
          });
        const body = await res.text();
        result.inputs++;
        count(result, `emulator ${endpoint}`, res.status);
        if ((res.headers.get('content-type') ?? '').startsWith('text/html'))
          check(
            body,
            pairs.map(([, v]) => v.marker),
          );
        return res.status < 500;
      },
    ),
    { numRuns: Math.round(runs * 0.3) },
  );
  expect(result.fiveXX).toBe(0);
  expect(result.unescaped).toBe(0);
  return result;
}
