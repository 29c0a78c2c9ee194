// The server's one transport (src/transport/: a `fetch` over undici 7's `Agent.dispatch`, injected into oauth/ and
// webex/) against Node's global `fetch` (undici's WHATWG path), on the three calls the server makes to Webex:
//
// - refresh: `POST /v1/access_token` with a refresh_token grant, form-encoded with client_secret_post, as the vault's
//   refresher sends it through oauth/tokens.ts (one real refresh token, which the emulator keeps, like Webex);
// - people/me: `GET /v1/people/me` with a bearer token and `accept: application/json`, as webex/client.ts sends it;
// - code exchange: `POST /v1/access_token` with an authorization_code grant, one fresh code per call (the codes come
//   from real authorize requests with auto-consent, made before each batch and not counted).
//
// Each call sends the same request the product sends and reads the whole JSON answer (`res.json()`).
// Both run in THIS process, the transport with the product's options; the emulator runs in its own process, so the
// figure is the client's CPU only: process.cpuUsage (user + system) over N calls, divided by N — once with the N calls
// one at a time, once with CONCURRENCY in flight. Mean latency is the mean of each call's own hrtime. Every batch is
// repeated in ROUNDS rounds, the transports' order rotating each round; each figure is the median of the rounds.
// Ratios are transport / global fetch (below 1: the transport costs less). No target: this shows why the server does
// not use the global fetch.
import { Agent as HttpAgent } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { httpRequest, loadAverage, median, ROOT, report, startEmulatorProcess } from './lib.mjs';

const N = Number(process.env.BENCH_TRANSPORT_N ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_TRANSPORT_CONCURRENCY ?? 16);
const WARMUP = 300;
const ROUNDS = 3;

const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { createTransport } = await dist('transport/index.js');
const { DEMO_SEED } = await dist('emulator/index.js');
const demo = DEMO_SEED.integrations[0];
const redirectUri = demo.redirectUris[0];

const loadAtStart = await loadAverage();
const emu = await startEmulatorProcess();
const origin = emu.url;
// Codes are fetched over a plain node:http agent of their own: not part of either transport's figures.
const side = new HttpAgent({ keepAlive: true, maxSockets: CONCURRENCY });

/** One authorization code from the emulator (auto-consent for alice@example.com). */
async function authorizeCode() {
  const url = new URL(`${origin}/v1/authorize`);
  url.search = new URLSearchParams({
    client_id: demo.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'spark:people_read',
    state: 'bench',
  }).toString();
  const res = await httpRequest(url, { agent: side });
  const code = res.headers.location && new URL(res.headers.location).searchParams.get('code');
  if (!code) throw new Error(`authorize answered ${res.status} without a code`);
  return code;
}

/** `n` fresh codes, CONCURRENCY at a time. */
async function freshCodes(n) {
  const out = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        next++;
        out.push(await authorizeCode());
      }
    }),
  );
  return out;
}

/** The token request's form, as oauth/http.ts's postForm builds it (client_secret_post). */
function tokenForm(fields) {
  const body = new URLSearchParams(fields);
  body.set('client_id', demo.clientId);
  body.set('client_secret', demo.clientSecret);
  return body;
}
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

// One real grant: its refresh token for the refresh path, its access token for people/me.
const [firstCode] = await freshCodes(1);
const granted = await httpRequest(`${origin}/v1/access_token`, {
  agent: side,
  method: 'POST',
  headers: FORM_HEADERS,
  body: tokenForm({ grant_type: 'authorization_code', code: firstCode, redirect_uri: redirectUri }).toString(),
});
if (granted.status !== 200) throw new Error(`first grant failed: ${granted.status}`);
const { access_token: accessToken, refresh_token: refreshToken } = JSON.parse(granted.body);

/**
 * The three calls. `prepare(n)` runs before a batch (not measured) and returns what `request(i)` needs: the method,
 * path, headers and form (or none) of the i-th call.
 */
const PATHS = {
  refresh: {
    prepare: async () => undefined,
    request: () => ({
      method: 'POST',
      path: '/v1/access_token',
      headers: FORM_HEADERS,
      form: tokenForm({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    }),
  },
  'people/me': {
    prepare: async () => undefined,
    request: () => ({
      method: 'GET',
      path: '/v1/people/me',
      headers: { accept: 'application/json', authorization: `Bearer ${accessToken}` },
      form: null,
    }),
  },
  'code exchange': {
    prepare: freshCodes,
    request: (i, codes) => ({
      method: 'POST',
      path: '/v1/access_token',
      headers: FORM_HEADERS,
      form: tokenForm({ grant_type: 'authorization_code', code: codes[i], redirect_uri: redirectUri }),
    }),
  },
};

// The server's transport with its default options, as buildApp and `serve` make it.
const transport = createTransport();

/** One call through `fetchImpl`, as oauth/http.ts and webex/client.ts send it, reading its JSON answer. */
const callThrough =
  (name, fetchImpl) =>
  async ({ method, path, headers, form }) => {
    const res = await fetchImpl(`${origin}${path}`, { method, headers, body: form, redirect: 'manual' });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`${name}: ${method} ${path} answered ${res.status}`);
    return json;
  };
/** Each transport sends one call and reads its JSON answer; a non-200 answer fails the bench. */
const TRANSPORTS = {
  transport: callThrough('transport', transport.fetch),
  'global fetch': callThrough('global fetch', globalThis.fetch),
};
const [SUBJECT, BASELINE] = Object.keys(TRANSPORTS);

/** `n` calls of `path` through `transport`, one at a time or CONCURRENCY at once: client CPU and mean latency, µs. */
async function batch(transport, pathName, concurrent, n = N) {
  const { prepare, request } = PATHS[pathName];
  const send = TRANSPORTS[transport];
  const prepared = await prepare(n);
  let latencyNs = 0n;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const t = process.hrtime.bigint();
      await send(request(i, prepared));
      latencyNs += process.hrtime.bigint() - t;
    }
  };
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrent ? CONCURRENCY : 1 }, worker));
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: (cpu.user + cpu.system) / n, latencyUs: Number(latencyNs) / 1000 / n };
}

// Warm-up: every transport on every path, so that neither is measured cold.
for (const transport of Object.keys(TRANSPORTS))
  for (const pathName of Object.keys(PATHS)) await batch(transport, pathName, false, WARMUP);

const names = Object.keys(TRANSPORTS);
/** figures[path][mode][transport] = [{ cpuUs, latencyUs } per round] */
const figures = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, k) => names[(k + round) % names.length]);
  for (const pathName of Object.keys(PATHS)) {
    for (const mode of ['sequential', 'concurrent']) {
      for (const transport of order) {
        const r = await batch(transport, pathName, mode === 'concurrent');
        figures[pathName] ??= {};
        figures[pathName][mode] ??= {};
        figures[pathName][mode][transport] ??= [];
        figures[pathName][mode][transport].push(r);
      }
    }
  }
}

const rows = [];
const perRound = [];
for (const [pathName, modes] of Object.entries(figures)) {
  for (const [mode, byTransport] of Object.entries(modes)) {
    const label = `${pathName}, ${mode === 'concurrent' ? `${CONCURRENCY} concurrent` : 'sequential'}`;
    for (const [measure, key] of [
      ['client CPU per call', 'cpuUs'],
      ['mean latency', 'latencyUs'],
    ]) {
      const value = median(byTransport[SUBJECT].map((r) => r[key]));
      const baseline = median(byTransport[BASELINE].map((r) => r[key]));
      rows.push({
        name: `${label}: ${measure}, ${SUBJECT} vs ${BASELINE}`,
        value,
        unit: 'µs',
        baseline,
        ratio: value / baseline,
      });
    }
    perRound.push(
      `${label} CPU µs per round: ${names.map((n) => `${n} ${byTransport[n].map((r) => r.cpuUs.toFixed(1)).join('/')}`).join(', ')}`,
    );
  }
}

report('transport', rows, [
  `src/transport/ (undici ${(await import('undici/package.json', { with: { type: 'json' } })).default.version} Agent.dispatch) vs Node ${process.version}'s global fetch (its own undici ${process.versions.undici}), against the emulator in its own process; ${N} calls per batch, medians of ${ROUNDS} rounds with rotating order; ratio = ${SUBJECT} / ${BASELINE}. Load average (1/5/15 min) at start ${loadAtStart}, at end ${await loadAverage()}.`,
  ...perRound,
]);

await transport.close();
side.destroy();
emu.child.kill();
