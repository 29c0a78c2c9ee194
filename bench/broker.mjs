// Token broker: `GET /api/v1/connections/:id/token` (a fresh token from the store, API-key auth) on SQLite and on
// PostgreSQL, against a bare node:http server answering a fixed JSON body of the same shape, in the same run.
// Targets (issue 20, replacing issue 9's): server CPU per request ≤ 1.5× the bare server's, throughput ≥ 0.65× its
// req/s, at 50 connections. p99 latency is reported without a target: issue 9's < 5 ms is out of reach of the bare
// server itself with 50 requests always in flight on 2 cores (Little's law; bench/limits.md).
//
// The connection is made by a real authorization-code flow against the emulator (library calls, see lib.mjs
// connectViaFlow); then `webex-auth serve` (custom mode, pointed at the emulator) is started as a child and loaded with
// autocannon. The per-key rate limit is off (API_KEY_RATE_LIMIT=off), so the bench measures the token path and not
// that limit (which answers 429 early and cheaply); its requests use KEYS keys (default one) made for the connection.
// Every baseline is sent the very same requests (path and rotating `Authorization` header): on this 2-core machine
// autocannon shares the CPU with the server, so the client's work per request must be the same on both sides. The
// requests are pre-built (see requestsFor): an earlier version built each in autocannon's setupRequest, which cost
// the client more per request than the bare server's whole answer and was charged to the broker's run only.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  addDemoIntegration,
  BARE_FASTIFY_SERVER,
  BARE_JSON_SERVER,
  BIN,
  cannonMeasured,
  connectViaFlow,
  isolatedEnv,
  loadAverage,
  ROOT,
  report,
  startEmulatorProcess,
  startProcess,
  WARMUP_S,
} from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;
// One key by default (the rate limit is off); more spread the calls over several verified-key cache entries.
const KEYS = Number(process.env.BENCH_BROKER_KEYS ?? 1);
// BENCH_PROFILE_DIR=… runs serve with --cpu-prof into that directory (the profile is written when serve exits).
const PROFILE = process.env.BENCH_PROFILE_DIR;
const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { loadConfig } = await dist('config.js');
const { openVault } = await dist('vault/index.js');
const { DEMO_SEED } = await dist('emulator/index.js');

const emu = await startEmulatorProcess();
const apiBase = `${emu.match[1]}/v1`;
const demo = DEMO_SEED.integrations[0];

/** Prepares a store with one connection (real flow) and KEYS API keys; returns the env serve needs. */
async function prepare(kind) {
  const schema = `bench_broker_${process.pid}`;
  const extra = {
    WEBEX_CLIENT_ID: demo.clientId,
    WEBEX_CLIENT_SECRET: demo.clientSecret,
    WEBEX_REDIRECT_URI: demo.redirectUris[0],
    WEBEX_API_BASE: apiBase,
    WEBEX_SCOPES: 'spark:people_read',
    API_KEY_RATE_LIMIT: 'off',
    ...(kind === 'postgres' ? { DATABASE_URL: `${PG}?options=${encodeURIComponent(`-c search_path=${schema}`)}` } : {}),
  };
  const env = isolatedEnv(extra);
  const config = loadConfig({ env, dotenvDir: false });
  const vault = await openVault(config, kind === 'postgres' ? { schema } : {});
  const connection = await connectViaFlow(vault, await addDemoIntegration(vault, demo, apiBase));
  const keys = [];
  for (let i = 0; i < KEYS; i++) {
    keys.push((await vault.apiKeys.create({ name: `bench-${i}`, connectionIds: [connection.id] })).key);
  }
  await vault.close();
  return { env, connectionId: connection.id, keys, schema };
}

async function dropSchema(schema) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

/**
 * The load: GET `path`, request i with key i of `keys` as its bearer token. A static list (no setupRequest), so
 * autocannon builds each request once per connection and then only cycles through them: the client's CPU per
 * request stays that of a fixed request.
 */
function requestsFor(path, keys) {
  return keys.map((key) => ({ method: 'GET', path, headers: { authorization: `Bearer ${key}` } }));
}

/** Loads the server `pid` for WARMUP_S + SECONDS seconds (lib.mjs cannonMeasured) and measures the last SECONDS. */
function measured(pid, load) {
  return cannonMeasured(pid, { connections: CONNECTIONS, ...load }, WARMUP_S, SECONDS);
}

async function loadBroker(kind, beforeMeasuring) {
  const { env, connectionId, keys, schema } = await prepare(kind);
  const profile = PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`, `--cpu-prof-name=serve-${kind}.cpuprofile`]
    : [];
  const serve = await startProcess(process.execPath, [...profile, BIN, 'serve', '--port', '0'], { env });
  try {
    const base = serve.match[1].replace('localhost', '127.0.0.1');
    const path = `/api/v1/connections/${encodeURIComponent(connectionId)}/token`;
    const check = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${keys[0]}` } });
    if (check.status !== 200)
      throw new Error(`${kind}: token endpoint answered ${check.status}: ${await check.text()}`);
    // Each key once (its first use records lastUsedAt, a write at most once a minute per key), then the bare server's
    // run with the same requests, then this one (warm-up and measured window on the same connections).
    for (const key of keys) await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    await beforeMeasuring(requestsFor(path, keys));
    return await measured(serve.child.pid, { url: base, requests: requestsFor(path, keys) });
  } finally {
    if (serve.child.exitCode === null) {
      const exited = new Promise((r) => serve.child.once('exit', r));
      serve.child.kill('SIGINT');
      await exited;
    }
    if (kind === 'postgres') await dropSchema(schema).catch(() => {});
  }
}

// The bare server stays up and is measured right before each contender, so that each ratio compares two runs a few
// seconds apart (the load of this shared machine changes from minute to minute).
// Keys of the same shape for the rows measured before a store exists (the floors themselves do not check them).
const sampleKeys = Array.from({ length: KEYS }, (_, i) => `wak_${String(i).padStart(43, '0')}`);
const samplePath = '/api/v1/connections/conn_bench/token';
const bare = await startProcess(process.execPath, ['-e', BARE_JSON_SERVER]);
const measureFloor = (requests) => measured(bare.child.pid, { url: bare.match[1], requests });
const floors = { fastify: await measureFloor(requestsFor(samplePath, sampleKeys)) };
const floor = floors.fastify;
const fastify = await startProcess(process.execPath, ['--input-type=module', '-e', BARE_FASTIFY_SERVER]);
const fastifyUrl = fastify.match[1];
const framework = await measured(fastify.child.pid, { url: fastifyUrl, requests: requestsFor(samplePath, sampleKeys) });
fastify.child.kill();

const results = {};
const notes = [];
for (const kind of ['sqlite', 'postgres']) {
  try {
    results[kind] = await loadBroker(kind, async (requests) => {
      floors[kind] = await measureFloor(requests);
    });
  } catch (error) {
    notes.push(`${kind} run failed: ${error.message.split('\n')[0]}`);
  }
}
bare.child.kill();
emu.child.kill('SIGINT');

const rows = [
  {
    name: 'bare Fastify route, same JSON (framework floor)',
    value: framework.rps,
    unit: 'req/s',
    baseline: floor.rps,
    ratio: framework.rps / floor.rps,
  },
  {
    name: 'server CPU per request (bare Fastify route)',
    value: framework.cpuUs,
    unit: 'µs',
    baseline: floor.cpuUs,
    ratio: framework.cpuUs / floor.cpuUs,
  },
];
for (const [kind, r] of Object.entries(results)) {
  if (r.bad)
    notes.push(
      `${kind}: ${r.bad} responses of the run (${r.badInWindow} in the measured window) were errors or non-2xx`,
    );
  rows.push(
    {
      name: `broker token (${kind}) throughput`,
      value: r.rps,
      unit: 'req/s',
      baseline: floors[kind].rps,
      ratio: r.rps / floors[kind].rps,
      target: '≥ 0.65× bare',
      pass: r.rps / floors[kind].rps >= 0.65 && r.bad === 0,
    },
    {
      name: `server CPU per request (${kind})`,
      value: r.cpuUs,
      unit: 'µs',
      baseline: floors[kind].cpuUs,
      ratio: r.cpuUs / floors[kind].cpuUs,
      target: '≤ 1.5× bare',
      pass: r.cpuUs / floors[kind].cpuUs <= 1.5 && r.bad === 0,
    },
    {
      name: `broker token (${kind}) p99 latency`,
      value: r.p99,
      unit: 'ms',
      baseline: floors[kind].p99,
    },
  );
}
notes.push(
  `autocannon ${CONNECTIONS} connections, ${SECONDS} s measured after a ${WARMUP_S} s warm-up on the same connections, loopback; each baseline is the bare node:http server measured just before that row's run, sent the same pre-built requests (same path, same rotating Authorization header); bare node:http p50/p99 ${floor.p50}/${floor.p99} ms, bare Fastify ${framework.p50}/${framework.p99} ms; ${KEYS} API key${KEYS === 1 ? '' : 's'} (API_KEY_RATE_LIMIT=off; each key used once before the warm-up); load average ${await loadAverage()}`,
);
report('broker', rows, notes);
