// Server CPU per request of each step of webex-auth's browser OAuth flow (bench/flow.mjs measures whole flows): the
// home page, POST /oauth/start, the callback (code exchange, people/me, storing, session rotation; its answer is the
// connection page) and the connection page loaded again at its own address ("flow" is the first three), each driven as a batch of FLOW_STEPS_N requests at concurrency 8 against `serve` and the emulator, with the
// server's CPU read from /proc around each batch. Usage:
//
//   node bench/tools/flow-steps.mjs                      one line of µs per request and step, per round
//   FLOW_STEPS_TOOL=perf FLOW_STEPS_STEP=callback …      `perf record -g` of serve during that step's batch (run serve
//                                                        with FLOW_STEPS_NODE_ARGS=--perf-basic-prof to name JS frames;
//                                                        then bench/tools/perf-modules.mjs)
//   FLOW_STEPS_TOOL=strace FLOW_STEPS_STEP=start …       `strace -c` of that step (pwrite64 = SQLite WAL frame writes)
//   FLOW_STEPS_TOOL=callgrind FLOW_STEPS_STEP=flow …     serve under callgrind, instrumented during that batch only
//                                                        (one file per thread: the main thread is -01)
//
// Knobs: FLOW_STEPS_N (requests per batch, default 1000), FLOW_STEPS_ROUNDS (3), FLOW_STEPS_WARMUP (flows before
// measuring, default 1500), FLOW_STEPS_OUT (where tool output goes, default bench/.work/flow-steps),
// FLOW_STEPS_THREADS=1 (also print the flow's CPU by thread, user and system apart: the main thread's against V8's
// helpers), FLOW_STEPS_STRACE_ARGS (strace's options instead of `-c -f`, e.g. `-f -e trace=writev,pwrite64 -s 0`
// to see each write's size).
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import {
  attachTool,
  BIN,
  browserRequest,
  cookieOf,
  cpuMs,
  flowEmulatorFor,
  flowServeEnv,
  freePort,
  startProcess,
  WORK,
} from '../lib.mjs';

const N = Number(process.env.FLOW_STEPS_N ?? 1000);
const ROUNDS = Number(process.env.FLOW_STEPS_ROUNDS ?? 3);
const WARMUP = Number(process.env.FLOW_STEPS_WARMUP ?? 1500);
const TOOL = process.env.FLOW_STEPS_TOOL;
const STEP = process.env.FLOW_STEPS_STEP ?? 'flow';
const OUT = process.env.FLOW_STEPS_OUT ?? join(WORK, 'flow-steps');
const CONCURRENCY = 8;
mkdirSync(OUT, { recursive: true });

const port = await freePort();
const {
  integration: demo,
  redirectUris: [redirect],
  emu,
  apiBase,
} = await flowEmulatorFor('flow-steps', [port]);
const nodeArgs = (process.env.FLOW_STEPS_NODE_ARGS ?? '').split(' ').filter(Boolean);
const serveArgs = [...nodeArgs, BIN, 'serve', '--port', String(port)];
const callgrind = TOOL === 'callgrind';
const ours = await startProcess(
  callgrind ? 'valgrind' : process.execPath,
  callgrind
    ? [
        '--tool=callgrind',
        '--instr-atstart=no',
        '--separate-threads=yes',
        `--callgrind-out-file=${join(OUT, `callgrind-${STEP}.out`)}`,
        process.execPath,
        ...serveArgs,
      ]
    : serveArgs,
  {
    env: flowServeEnv(demo, redirect, apiBase),
  },
);
const pid = ours.child.pid;
process.on('exit', () => {
  for (const p of [ours, emu]) if (p.child.exitCode === null) p.child.kill('SIGTERM');
});

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const base = `http://localhost:${port}`;
const go = browserRequest(agent);
const must = (res, status, what) => {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.body.slice(0, 200)}`);
  return res;
};

// The steps; each takes what the one before gave.
const home = async () => /name="_csrf" value="([^"]+)"/.exec(must(await go(`${base}/home`), 200, 'home').body)[1];
const start = async (csrf) => {
  const res = must(
    await go(`${base}/oauth/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ _csrf: csrf, scope: 'spark:people_read' }).toString(),
    }),
    303,
    'start',
  );
  return { cookie: cookieOf(res), location: res.headers.location };
};
const authorize = async (s) => ({
  cookie: s.cookie,
  location: must(await go(s.location), 302, 'authorize').headers.location,
});
// The callback answers with the connection page; `page` loads that page again at its own address.
const callback = async (a) => {
  const res = must(await go(a.location, { headers: { cookie: a.cookie } }), 200, 'callback');
  return { cookie: cookieOf(res) || a.cookie, location: new URL(res.headers['content-location'], base).href };
};
const page = async (c) => must(await go(c.location, { headers: { cookie: c.cookie } }), 200, 'connection page');
const flow = async () => callback(await authorize(await start(await home())));
const steps = { home, start, callback, page, flow };

/** CPU ms of each of `pid`'s threads, summed by thread name (user + system, from /proc). */
function threadsMs(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out[`${name} user`] = (out[`${name} user`] ?? 0) + Number(f[11]) * 10;
    out[`${name} sys`] = (out[`${name} sys`] ?? 0) + Number(f[12]) * 10;
  }
  return out;
}

/** Runs `fn` over `items` at CONCURRENCY, in order of the items; its results. */
async function batch(items, fn) {
  const out = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k]);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
}

/** What each step takes: N of them, made by the steps before it (not measured). */
async function inputsOf(step) {
  if (step === 'home' || step === 'flow') return Array(N).fill(0);
  const csrf = await home();
  if (step === 'start') return Array(N).fill(csrf);
  const authorized = await batch(await batch(Array(N).fill(csrf), start), authorize);
  return step === 'callback' ? authorized : batch(authorized, callback);
}

await batch(Array(WARMUP).fill(0), flow);
if (TOOL) {
  const items = await inputsOf(STEP);
  const stop = await attachTool(TOOL, pid, { out: OUT, name: STEP, straceArgs: process.env.FLOW_STEPS_STRACE_ARGS });
  await batch(items, steps[STEP]);
  await stop();
  console.log(`${TOOL} of ${N} × ${STEP} written to ${OUT}`);
} else {
  for (let round = 0; round < ROUNDS; round++) {
    const row = {};
    for (const step of Object.keys(steps)) {
      const items = await inputsOf(step);
      const before = cpuMs(pid);
      const t0 = threadsMs(pid);
      await batch(items, steps[step]);
      row[step] = Math.round(((cpuMs(pid) - before) * 1000) / N);
      if (step === 'flow' && process.env.FLOW_STEPS_THREADS) {
        const t1 = threadsMs(pid);
        const by = {};
        for (const [name, ms] of Object.entries(t1)) by[name] = Math.round(((ms - (t0[name] ?? 0)) * 1000) / N);
        console.log(`  flow µs by thread: ${JSON.stringify(by)}`);
      }
    }
    console.log(`server CPU µs per request: ${JSON.stringify(row)}`);
  }
}
agent.destroy();
process.exit(0);
