// Shared helpers of the benchmarks. Every figure is reported next to a baseline measured in the same run,
// because these machines are noisy: the ratio is what we compare against targets, not the absolute number.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// The installed bin (package.json "bin"), as `webex-auth` runs it.
export const BIN = join(ROOT, 'dist', 'cli', 'webex-auth.cjs');
export const WORK = join(ROOT, 'bench', '.work');

/** A 32-byte key ring entry for benchmarks only. */
/**
 * Seconds of load every server gets before a measured run (BENCH_WARMUP; the baselines too, the same time). A server
 * measured after 1 s was still JIT-compiling: a fresh `serve` answered token GETs at 0.43–0.78× of its own next 10 s,
 * and V8's optimizing compiler was ~19 % of its CPU through a 16 s flow run, while a bare server settles at once. The
 * figures are for a server that has been up a while, as a broker is.
 */
export const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 5);

export const BENCH_KEYS = `bench:${Buffer.alloc(32, 7).toString('base64')}`;

/** A fresh, isolated environment for a webex-auth process (its own data dir and key). */
export function isolatedEnv(extra = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wa-bench-'));
  return {
    ...process.env,
    XDG_DATA_HOME: dir,
    WEBEX_AUTH_KEYS: BENCH_KEYS,
    LOG_LEVEL: 'silent',
    NO_COLOR: '1',
    ...extra,
  };
}

/** Median of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * One result from several runs of the same bench (`runs`: `{ load, result }`, load = the 1-minute load average when
 * the run started): each row's value, baseline and ratio are the medians over the runs (the ratio is the median of
 * the runs' own ratios, each against its own run's baseline); a target is met when the median run meets it, i.e. when
 * most runs met it. A note lists every run's ratio (or value) and load average.
 */
export function medianOfRuns(runs) {
  // cli-token's row names carry their rounds' spread, which differs between runs.
  const bare = (name) => name.replace(/ \(rounds [^)]*\)/, '');
  const first = runs[0].result;
  const rows = first.rows.map((row, i) => {
    const each = runs.map((r) => r.result.rows[i]).filter((r) => r && bare(r.name) === bare(row.name));
    const mid = (pick) => (each.every((r) => typeof pick(r) === 'number') ? median(each.map(pick)) : pick(row));
    const combined = {
      ...row,
      name: bare(row.name),
      value: mid((r) => r.value),
      baseline: mid((r) => r.baseline),
      ratio: mid((r) => r.ratio),
    };
    if (row.target) combined.pass = each.filter((r) => r.pass).length * 2 > each.length;
    return combined;
  });
  const perRun = runs.map(({ load, result }, n) => {
    const figures = result.rows
      .filter((r) => r.target)
      .map((r) => `${bare(r.name)} ${r.ratio === undefined ? fmt(r.value) : `${r.ratio.toFixed(2)}×`}`);
    return `run ${n + 1} (load ${load.toFixed(2)}): ${figures.join('; ')}`;
  });
  return {
    ...first,
    rows,
    notes: [`median of ${runs.length} runs; ${perRun.join(' — ')}`, ...runs.at(-1).result.notes],
    at: runs.at(-1).result.at,
  };
}

/** Wall time of `runs` sequential runs of a command (after `warmup` runs), median in ms. */
export function timeCommand(cmd, args, { runs = 20, warmup = 3, env = process.env } = {}) {
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i >= warmup) times.push(ms);
  }
  return { medianMs: median(times), minMs: Math.min(...times), runs };
}

/** Starts a child process and resolves when a line of its output matches `ready`. */
export function startProcess(cmd, args, { env = process.env, ready = /listening on (http:\/\/\S+)/, cwd = ROOT } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    const onData = (chunk) => {
      buffer += chunk;
      const m = buffer.match(ready);
      if (m) {
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        resolve({ child, match: m, readyMs: Number(process.hrtime.bigint() - t0) / 1e6, t0 });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code} before ready: ${buffer.slice(-2000)}`)));
  });
}

/**
 * The environment of the `serve` the flow benches drive: `integration` (the demo seed's) at the emulator's `apiBase`,
 * redirecting to `redirectUri`, configured with `scope`. Every flow makes a flow id (or a session), all from this one
 * address: the per-address creation limit is off for the load.
 */
export function flowServeEnv(integration, redirectUri, apiBase, scope = 'spark:people_read') {
  return isolatedEnv({
    WEBEX_CLIENT_ID: integration.clientId,
    WEBEX_CLIENT_SECRET: integration.clientSecret,
    WEBEX_REDIRECT_URI: redirectUri,
    WEBEX_API_BASE: apiBase,
    WEBEX_SCOPES: scope,
    SESSION_CREATION_LIMIT: 'off',
  });
}

/**
 * The emulator as the flow benches use it: seeded from `seed`, consenting as alice at once, without a live-token cap
 * (every flow mints a token for the same person). `nodeArgs` go to node (a profiler's flags).
 */
export function startFlowEmulator(seed, nodeArgs = []) {
  const args = [
    'emulator',
    '--port',
    '0',
    '--seed',
    seed,
    '--auto-consent',
    'alice@example.com',
    '--token-cap',
    '1000000000',
  ];
  return startProcess(process.execPath, [...nodeArgs, BIN, ...args]);
}

/**
 * What a flow bench drives: the demo seed's integration, given one redirect URI per server `port`
 * (`http://localhost:<port>/oauth`), and the emulator started on a seed saved as bench/.work/<name>-seed.json with
 * `nodeArgs` ({@link startFlowEmulator}); `apiBase` is the emulator's `/v1`.
 */
export async function flowEmulatorFor(name, ports, nodeArgs = []) {
  const { DEMO_SEED } = await import(pathToFileURL(join(ROOT, 'dist', 'emulator', 'index.js')).href);
  const integration = DEMO_SEED.integrations[0];
  const redirectUris = ports.map((port) => `http://localhost:${port}/oauth`);
  const seed = workFile(`${name}-seed.json`, { ...DEMO_SEED, integrations: [{ ...integration, redirectUris }] });
  const emu = await startFlowEmulator(seed, nodeArgs);
  return { integration, redirectUris, emu, emulator: emu.match[1], apiBase: `${emu.match[1]}/v1` };
}

/**
 * Where the CiscoDevNet webex-integration-sample is installed for the flow benches (never committed: clone it there and
 * `npm install` it; BENCH_SAMPLE_DIR overrides), and whether it is.
 */
export const SAMPLE_DIR = process.env.BENCH_SAMPLE_DIR ?? join(WORK, 'webex-integration-sample');
export const sampleInstalled = () =>
  existsSync(join(SAMPLE_DIR, 'server.js')) && existsSync(join(SAMPLE_DIR, 'node_modules'));

/**
 * Starts the sample's server on `port` for `integration` (the demo seed's) at the emulator's `apiBase`, redirecting to
 * `redirectUri`. It hard-codes https://api.ciscospark.com/v1: bench/tools/sample-shim.cjs, preloaded with
 * NODE_OPTIONS, rewrites that base to the emulator without editing the sample. `wrap`: a command the server runs under
 * (`['valgrind', '--tool=callgrind', …]`); `nodeArgs` go to node.
 */
export function startSample({ port, integration, redirectUri, apiBase, scope, wrap = [], nodeArgs = [] }) {
  const argv = [...wrap, process.execPath, ...nodeArgs, join(SAMPLE_DIR, 'server.js')];
  return startProcess(argv[0], argv.slice(1), {
    ready: /started on port/,
    env: {
      ...process.env,
      PORT: String(port),
      CLIENT_ID: integration.clientId,
      CLIENT_SECRET: integration.clientSecret,
      REDIRECT_URI: redirectUri,
      SCOPES: scope,
      // Its .env turns on debug logs (DEBUG=oauth*, which print tokens); node-env-file keeps values already set.
      DEBUG: '-',
      BENCH_WEBEX_API_BASE: apiBase,
      NODE_OPTIONS: `--require ${join(ROOT, 'bench', 'tools', 'sample-shim.cjs')}`,
    },
  });
}

/** `res` when its status is `status`, else an error naming `what` and the start of its body. */
export function expectStatus(res, status, what) {
  if (res.status !== status)
    throw new Error(`${what}: expected ${status}, got ${res.status}: ${res.body.slice(0, 300)}`);
  return res;
}

/**
 * One flow of the sample at `base` as a browser does it (index page → authorize at the emulator's `apiBase` → its
 * callback, whose answer is its result page), through `go` ({@link browserRequest}); throws on anything else.
 */
export async function sampleFlow(go, base, apiBase) {
  const index = expectStatus(await go(`${base}/index.html`), 200, 'sample index');
  const link = /href=["']?(https:\/\/api\.ciscospark\.com\/v1\/authorize[^"'\s>]+)/.exec(index.body)?.[1];
  if (!link) throw new Error('sample index page without the authorize link');
  const authorize = expectStatus(
    await go(
      link
        .replace(/&amp;/g, '&')
        .replace(/&#34;|&quot;/g, '"')
        .replace('https://api.ciscospark.com/v1', apiBase),
    ),
    302,
    'authorize',
  );
  const page = expectStatus(await go(authorize.headers.location), 200, 'sample callback');
  if (!page.body.includes('Alice Example')) throw new Error(`sample flow did not complete: ${page.body.slice(0, 300)}`);
}

/**
 * Starts `tool` (`callgrind` for a process already running under `valgrind --tool=callgrind --instr-atstart=no`,
 * `perf` or `strace`) on process `pid` around a piece of work; resolves to its stop function. Output goes to `out`,
 * named after `name` (perf-<name>.data, strace-<name>.txt; callgrind dumps under `name`). `straceArgs`: strace's
 * options before `-o` (default `-c -f`).
 */
export async function attachTool(tool, pid, { out, name, straceArgs = '-c -f' }) {
  const id = String(pid);
  if (tool === 'callgrind') {
    execFileSync('callgrind_control', ['-i', 'on', id], { stdio: 'ignore' });
    return async () => {
      execFileSync('callgrind_control', ['-i', 'off', id], { stdio: 'ignore' });
      execFileSync('callgrind_control', ['-d', name, id], { stdio: 'ignore' });
    };
  }
  const args =
    tool === 'perf'
      ? ['record', '-F', '999', '-g', '-o', join(out, `perf-${name}.data`), '-p', id]
      : [...straceArgs.split(' '), '-o', join(out, `strace-${name}.txt`), '-p', id];
  const child = spawn(tool, args, { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  };
}

/** A request function over loopback through `agent` that names the server as a browser would (its Host header). */
export function browserRequest(agent) {
  return (url, init = {}) => {
    const u = new URL(url);
    const host = u.host;
    u.hostname = '127.0.0.1';
    return httpRequest(u, { agent, ...init, headers: { host, ...(init.headers ?? {}) } });
  };
}

/** The `Cookie` header a browser sends back after answer `res` (its Set-Cookie values, without attributes). */
export const cookieOf = (res) => (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');

/** Resident set size of a process in MB (Linux). */
export function rssMb(pid) {
  const status = spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }).stdout;
  const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** A short description of this machine for RESULTS.md. */
export function machine() {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

/**
 * Records one benchmark's rows: `{ name, value, unit, baseline?, ratio?, target?, pass? }`; with `section`, RESULTS.md
 * shows them in a section of that title instead of the main table.
 * Printed for the reader and written to bench/.work/<bench>.json for run.mjs to collect into RESULTS.md.
 */
export function report(bench, rows, notes = [], { section } = {}) {
  mkdirSync(WORK, { recursive: true });
  writeFileSync(
    join(WORK, `${bench}.json`),
    JSON.stringify({ bench, rows, notes, at: new Date().toISOString(), ...(section ? { section } : {}) }, null, 2),
  );
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '' : `  ratio ${r.ratio.toFixed(2)}`;
    const target = r.target ? `  target ${r.target} → ${r.pass ? 'met' : 'MISSED'}` : '';
    console.log(
      `${bench}: ${r.name}: ${fmt(r.value)} ${r.unit}${r.baseline === undefined ? '' : ` (baseline ${fmt(r.baseline)})`}${ratio}${target}`,
    );
  }
}

/** Formats a number for tables. */
export function fmt(n) {
  if (typeof n !== 'number' || Number.isNaN(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** A bare node:http server answering a fixed JSON body: the floor every HTTP figure is compared with. */
export const BARE_JSON_SERVER = `require('node:http').createServer((q,s)=>{s.setHeader('content-type','application/json');s.setHeader('cache-control','no-store');s.end(JSON.stringify({access_token:'x'.repeat(64),token_type:'Bearer',expires_at:new Date().toISOString(),expires_in:1209000,scopes:['spark:people_read'],person:{id:'p',email:'alice@example.com',display_name:'Alice Example'}}))}).listen(0,'127.0.0.1',function(){console.log('listening on http://127.0.0.1:'+this.address().port)})`;

/** The same fixed JSON from a bare Fastify route (no plugins, no logger): the framework's own floor. */
export const BARE_FASTIFY_SERVER = `const body=JSON.stringify({access_token:'x'.repeat(64),token_type:'Bearer',expires_at:new Date().toISOString(),expires_in:1209000,scopes:['spark:people_read'],person:{id:'p',email:'alice@example.com',display_name:'Alice Example'}});const app=(await import('fastify')).default();app.get('/api/v1/connections/:id/token',async(q,r)=>r.header('cache-control','no-store').type('application/json').send(body));await app.listen({port:0,host:'127.0.0.1'});console.log('listening on http://127.0.0.1:'+app.server.address().port)`;

/** Runs autocannon with `opts` (bounded by `duration` seconds) and resolves to its result. */
export async function cannon(opts) {
  const { default: autocannon } = await import('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ connections: 50, duration: 5, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * Loads the server `pid` with autocannon for `warmupS` + `seconds` seconds on the same connections, and measures only
 * the last `seconds`: the responses received and the server's CPU (/proc) between two instants of the run. One run,
 * not a warm-up run and then a measured one: when the warm-up's connections closed and new ones opened, V8
 * re-optimized Node's http and stream code deoptimized by the new sockets ("wrong map") inside the measured run, and
 * its worker threads' CPU moved one build's ratio by ±30 % between runs (bench/limits.md). A bot fleet keeps its
 * connections alive. Resolves to requests per second, the server's CPU µs per request and the latency percentiles (ms)
 * over the window, and the failed responses of the whole run (`bad`) and of the window (`badInWindow`).
 */
export async function cannonMeasured(pid, opts, warmupS, seconds) {
  const { default: autocannon } = await import('autocannon');
  return new Promise((resolve, reject) => {
    let responses = 0;
    let failed = 0;
    // Response times (ms) of the window only, so that the warm-up's compile stalls are not in its percentiles.
    let latencies;
    let window;
    let instance;
    const timers = [];
    const stop = (error) => {
      for (const t of timers) clearTimeout(t);
      instance?.stop();
      reject(error);
    };
    const mark = () => ({ responses, failed, cpu: cpuMs(pid), at: performance.now() });
    timers.push(
      setTimeout(() => {
        try {
          const from = mark();
          latencies = [];
          timers.push(
            setTimeout(() => {
              try {
                const to = mark();
                const ms = latencies.sort((a, b) => a - b);
                latencies = undefined;
                const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
                window = {
                  n: to.responses - from.responses,
                  bad: to.failed - from.failed,
                  cpu: to.cpu - from.cpu,
                  s: (to.at - from.at) / 1000,
                  p50: at(0.5),
                  p99: at(0.99),
                };
              } catch (error) {
                stop(error);
              }
            }, seconds * 1000),
          );
        } catch (error) {
          // The server is gone (no /proc entry): no figure, and no load left running.
          stop(error);
        }
      }, warmupS * 1000),
    );
    instance = autocannon({ connections: 50, ...opts, duration: warmupS + seconds + 1 }, (err, result) => {
      for (const t of timers) clearTimeout(t);
      if (err) return reject(err);
      if (!window) return reject(new Error('autocannon stopped before the measured window ended'));
      resolve({
        rps: window.n / window.s,
        total: window.n,
        cpuUs: (window.cpu * 1000) / Math.max(1, window.n),
        p50: window.p50,
        p99: window.p99,
        // Failures anywhere in the run, warm-up included: a server that failed at all is reported.
        bad: result.errors + result.non2xx + result.timeouts,
        badInWindow: window.bad,
      });
    });
    // Counted per response (the same client work for every server measured).
    instance.on('response', (_client, status, _bytes, responseTime) => {
      responses += 1;
      if (status < 200 || status > 299) failed += 1;
      latencies?.push(responseTime);
    });
    instance.on('reqError', () => {
      failed += 1;
    });
  });
}

/** A free loopback port (listen on 0, close, return the number). */
export async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Writes a file under bench/.work/tmp (not a result: run.mjs collects only bench/.work/*.json) and returns its path. */
export function workFile(name, value) {
  mkdirSync(join(WORK, 'tmp'), { recursive: true });
  const path = join(WORK, 'tmp', name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

/** The 1-, 5- and 15-minute load averages, for the notes (the machine is shared). */
export async function loadAverage() {
  const { loadavg } = await import('node:os');
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
}

/**
 * One real authorization-code grant at the emulator (`apiBase` …/v1) for integration `demo` (auto-consent, one scope):
 * its token response, with a refresh token of its own.
 */
export async function realGrant(apiBase, demo, agent) {
  const auth = new URL(`${apiBase}/authorize`);
  auth.search = new URLSearchParams({
    client_id: demo.clientId,
    response_type: 'code',
    redirect_uri: demo.redirectUris[0],
    scope: 'spark:people_read',
    state: 'bench',
  }).toString();
  const a = await httpRequest(auth, { agent });
  const code = new URL(a.headers.location).searchParams.get('code');
  const t = await httpRequest(`${apiBase}/access_token`, {
    agent,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: demo.redirectUris[0],
      client_id: demo.clientId,
      client_secret: demo.clientSecret,
    }).toString(),
  });
  if (t.status !== 200) throw new Error(`grant failed: ${t.status} ${t.body.slice(0, 200)}`);
  return JSON.parse(t.body);
}

/** One HTTP/1.1 request over a keep-alive agent: `{ status, headers, body }` (redirects are not followed). */
export async function httpRequest(url, { method = 'GET', headers = {}, body, agent } = {}) {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        data += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Stores the emulator's demo integration `demo` (from DEMO_SEED) in `vault`, for `spark:people_read`; its id. */
export async function addDemoIntegration(vault, demo, apiBase) {
  const integration = await vault.integrations.upsert({
    clientId: demo.clientId,
    clientSecret: demo.clientSecret,
    redirectUri: demo.redirectUris[0],
    scopes: ['spark:people_read'],
    apiBase,
  });
  return integration.id;
}

/**
 * Connects a person through a real authorization-code flow against the emulator (authorize with auto-consent →
 * callback parameters → code exchange → people/me) with the library, and stores the connection in `vault`.
 */
export async function connectViaFlow(vault, integrationId, scopes = ['spark:people_read']) {
  const dist = (p) => import(join(ROOT, 'dist', p));
  const { createAuthorizationRequest } = await dist('oauth/authorize.js');
  const { parseCallback } = await dist('oauth/callback.js');
  const { exchangeCode } = await dist('oauth/tokens.js');
  const { WebexClient } = await dist('webex/client.js');
  const integration = await vault.getIntegrationWithSecret(integrationId);
  const { url, pending } = createAuthorizationRequest({ integration, scopes });
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (!location) throw new Error(`authorize answered ${res.status} without a redirect (is --auto-consent set?)`);
  const parsed = parseCallback(new URL(location), (state) => (state === pending.state ? pending : undefined));
  const tokens = await exchangeCode(integration, parsed);
  const person = await new WebexClient({ apiBase: integration.apiBase, accessToken: tokens.accessToken }).peopleMe();
  return vault.connections.saveFromGrant({ integrationId, tokens, person, requestedScopes: scopes });
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc, clock ticks of 10 ms). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Starts `webex-auth emulator` on a random port with auto-consent for alice@example.com and a token cap high enough
 * for load runs; resolves to the process and its base URL (`http://127.0.0.1:P`).
 */
export async function startEmulatorProcess(extraArgs = []) {
  const emu = await startProcess(process.execPath, [
    BIN,
    'emulator',
    '--port',
    '0',
    '--auto-consent',
    'alice@example.com',
    '--token-cap',
    '1000000000',
    ...extraArgs,
  ]);
  return { ...emu, url: emu.match[1] };
}
