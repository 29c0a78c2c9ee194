// Full OAuth flows per second against the emulator: webex-auth's web app (home page → POST /oauth/start → emulator
// authorize with auto-consent → callback → code exchange → people/me → stored → the connection page as the callback's
// answer) against the CiscoDevNet webex-integration-sample Express server doing its own flow (index page → authorize
// → callback → code exchange → people/me → its page; it also fires a refresh right after) against the same emulator,
// in the same run.
// Target (issue 20, replacing issue 9's "≥ 3× the sample's flows/s", which compared a 5-request flow with a
// 3-request one): server CPU per browser flow ≤ 1.5× the sample's. Flows/s are reported for information.
//
// The sample is never committed: clone it into bench/.work/ (gitignored) and `npm install` it there, or point
// BENCH_SAMPLE_DIR at it (lib.mjs `startSample` runs it against the emulator without editing it).
import { Agent } from 'node:http';
import { availableParallelism } from 'node:os';
import {
  BIN,
  browserRequest,
  cookieOf,
  cpuMs,
  expectStatus,
  flowEmulatorFor,
  flowServeEnv,
  freePort,
  loadAverage,
  report,
  SAMPLE_DIR,
  sampleFlow as sampleFlowAt,
  sampleInstalled,
  startProcess,
  startSample,
  WARMUP_S,
} from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_FLOW_CONCURRENCY ?? 8);
// Each server is warmed up with the same number of flows, at least BENCH_WARMUP seconds: the figure is the steady
// state of a server that has been serving, not its first seconds. V8 keeps optimizing webex-auth's larger code for
// thousands of flows (TurboFan compiles on its helper threads: 30-60 functions/s through its first 10 s at ~400
// flows/s, under 5/s after ~8,000 flows; bench/limits.md), and that compiling is CPU of the server's process.
const WARMUP_FLOWS = Number(process.env.BENCH_FLOW_WARMUP_FLOWS ?? 8000);
const SCOPE = 'spark:people_read';

const oursPort = await freePort();
const samplePort = await freePort();
// BENCH_PROFILE_DIR=… runs serve and the emulator with --cpu-prof into that directory.
const profileAs = (name) =>
  process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];
// A failed run (a server that does not start, a flow that throws) must not leave the other children running.
const children = new Set();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});
const {
  integration: demo,
  redirectUris: [oursRedirect, sampleRedirect],
  emu,
  emulator,
  apiBase,
} = await flowEmulatorFor('flow', [oursPort, samplePort], profileAs('emulator-flow'));
children.add(emu.child);

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
/** Requests `url` over loopback, sending `host` as the browser would (the servers use it to name themselves). */
const go = browserRequest(agent);
/** One sample flow, as a browser does it. */
const sampleFlow = () => sampleFlowAt(go, `http://localhost:${samplePort}`, apiBase);

/**
 * One webex-auth flow, as a browser does it: home page (CSRF token) → POST /oauth/start (session cookie) → authorize
 * → callback (code exchange, people/me, stored, session id rotated), whose answer is the connection page.
 */
async function oursFlow() {
  const base = `http://localhost:${oursPort}`;
  // The home page makes no session (its form carries a signed CSRF token); POST /oauth/start makes one (a store
  // write), and the callback gives it a new id (session rotation).
  const home = expectStatus(await go(`${base}/home`), 200, 'home');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1];
  if (!csrf) throw new Error('home page without a CSRF token');
  const start = expectStatus(
    await go(`${base}/oauth/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ _csrf: csrf, scope: SCOPE }).toString(),
    }),
    303,
    'start',
  );
  const cookie = cookieOf(start);
  if (!cookie) throw new Error('POST /oauth/start set no session cookie');
  const authorize = expectStatus(await go(start.headers.location), 302, 'authorize');
  const page = expectStatus(await go(authorize.headers.location, { headers: { cookie } }), 200, 'callback');
  if (!page.headers['content-location']?.startsWith('/connections/') || !page.body.includes('id="person-name"'))
    throw new Error(`the callback did not answer with the connection page: ${page.body.slice(0, 300)}`);
}

/**
 * Runs `flow` in CONCURRENCY loops for `seconds`, and on until `minFlows` are done; flows/s, failures, and CPU ms per
 * flow of the server and emulator.
 */
async function drive(flow, seconds, serverPid, minFlows = 0) {
  const cpu0 = serverPid ? [cpuMs(serverPid), cpuMs(emu.child.pid), process.cpuUsage()] : undefined;
  const end = Date.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  let firstError;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end || done < minFlows) {
        try {
          await flow();
          done++;
        } catch (error) {
          failed++;
          firstError ??= error;
          if (failed > 20) throw firstError;
        }
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const client = cpu0 && process.cpuUsage(cpu0[2]);
  const cpu = cpu0
    ? {
        server: cpuMs(serverPid) - cpu0[0],
        emulator: cpuMs(emu.child.pid) - cpu0[1],
        client: (client.user + client.system) / 1000,
      }
    : undefined;
  return { seconds: s, done, failed, firstError, cpu };
}

/** Sums rounds of `drive`: flows/s over all rounds, and CPU ms per flow. */
function merge(rounds) {
  const sum = (f) => rounds.reduce((a, r) => a + f(r), 0);
  const done = sum((r) => r.done);
  return {
    rate: done / sum((r) => r.seconds),
    done,
    failed: sum((r) => r.failed),
    firstError: rounds.find((r) => r.firstError)?.firstError,
    cpu: {
      server: sum((r) => r.cpu.server) / done,
      emulator: sum((r) => r.cpu.emulator) / done,
      client: sum((r) => r.cpu.client) / done,
    },
  };
}

const notes = [];
const rows = [];
const stop = async (p) => {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGINT');
  await exited;
};

// webex-auth
const ours = await startProcess(
  process.execPath,
  [...profileAs('serve-flow'), BIN, 'serve', '--port', String(oursPort)],
  {
    env: flowServeEnv(demo, oursRedirect, apiBase, SCOPE),
  },
);
children.add(ours.child);
await oursFlow();
await drive(oursFlow, WARMUP_S, undefined, WARMUP_FLOWS);

// The sample
let sample;
if (!sampleInstalled()) {
  notes.push(
    `sample not measured: ${SAMPLE_DIR} has no installed webex-integration-sample (clone github.com/CiscoDevNet/webex-integration-sample there and run npm install, or set BENCH_SAMPLE_DIR)`,
  );
} else {
  sample = await startSample({
    port: samplePort,
    integration: demo,
    redirectUri: sampleRedirect,
    apiBase,
    scope: SCOPE,
  });
  children.add(sample.child);
  try {
    await sampleFlow();
    await drive(sampleFlow, WARMUP_S, undefined, WARMUP_FLOWS);
  } catch (error) {
    notes.push(`sample flow failed: ${error.message.split('\n')[0]}`);
    await stop(sample);
    sample = undefined;
  }
}

// All measured in alternating halves, so that a change of machine load falls on each alike.
const oursRounds = [];
const sampleRounds = [];
for (let round = 0; round < 2; round++) {
  oursRounds.push(await drive(oursFlow, SECONDS / 2, ours.child.pid));
  if (sample) sampleRounds.push(await drive(sampleFlow, SECONDS / 2, sample.child.pid));
}
await stop(ours);
if (sample) await stop(sample);
const oursResult = merge(oursRounds);
const sampleResult = sample ? merge(sampleRounds) : undefined;
if (oursResult.failed)
  notes.push(`webex-auth: ${oursResult.failed} failed flows (first: ${oursResult.firstError.message})`);
if (sampleResult?.failed)
  notes.push(`sample: ${sampleResult.failed} failed flows (first: ${sampleResult.firstError.message})`);
const stats = await (await fetch(`${emulator}/_emulator/stats`)).json();
await stop(emu);
agent.destroy();

rows.push({
  name: 'full OAuth flows/s (webex-auth web app, browser: 4 requests)',
  value: oursResult.rate,
  unit: 'flows/s',
  ...(sampleResult ? { baseline: sampleResult.rate, ratio: oursResult.rate / sampleResult.rate } : {}),
});
if (sampleResult) {
  rows.push({ name: 'full OAuth flows/s (webex-integration-sample)', value: sampleResult.rate, unit: 'flows/s' });
}
const cpuRow = (name, result) => ({
  name,
  value: result.cpu.server,
  unit: 'ms',
  ...(sampleResult ? { baseline: sampleResult.cpu.server, ratio: result.cpu.server / sampleResult.cpu.server } : {}),
  ...(sampleResult
    ? {
        target: '≤ 1.5× sample',
        pass: result.cpu.server / sampleResult.cpu.server <= 1.5 && result.failed === 0,
      }
    : {}),
});
rows.push(cpuRow('server CPU per flow (webex-auth, browser flow)', oursResult));
notes.push(
  "what each flow is: webex-auth's browser flow = home page (a signed CSRF token, no session) → POST /oauth/start (state, PKCE) → emulator authorize (auto-consent) → callback (state check, code exchange, people/me, two AES-GCM envelopes, SQLite upsert) whose answer is the connection page (it names its own address, /connections/…, in Content-Location and a canonical link; until this round the callback redirected there, one request more); the sample's = index page → authorize → its callback (fixed state, no PKCE, nothing stored, plus one refresh), whose answer is its result page",
);
/** "server a + emulator b + client c = total ms" of one result. */
const budget = (r) => {
  const total = r.cpu.server + r.cpu.emulator + r.cpu.client;
  return `server ${r.cpu.server.toFixed(2)} + emulator ${r.cpu.emulator.toFixed(2)} + load client ${r.cpu.client.toFixed(2)} = ${total.toFixed(2)} ms`;
};
notes.push(
  `CPU per flow (from /proc, 10 ms ticks; all three share the machine's ${availableParallelism()} cores): webex-auth browser flow ${budget(oursResult)}${sampleResult ? `; sample ${budget(sampleResult)} (its emulator part includes its refresh)` : ''}`,
);
notes.push(
  `${CONCURRENCY} concurrent browser-like flows for ${SECONDS} s each (two alternating halves) after a warm-up of each server with ${WARMUP_FLOWS} flows (and at least ${WARMUP_S} s); emulator grants seen: ${JSON.stringify(stats.grants)}; the sample also refreshes once per flow (its demo code); load average ${await loadAverage()}`,
);
report('flow', rows, notes);
