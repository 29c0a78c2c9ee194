// A million connections on PostgreSQL (issue 20). Not part of `npm test`, nor of a plain `npm run bench`: run it by
// name, `npm run bench -- scale`. Needs PostgreSQL on 127.0.0.1:5432 (user postgres); it creates its own database
// (BENCH_SCALE_DB, default webex_auth_scale), drops it at the end (BENCH_SCALE_KEEP=1 keeps it), never touches `test`.
//
// Set-up: 1 % of the rows (10,000) are due for keep-alive and hold real refresh tokens from authorization-code grants
// at the emulator, stored through the vault; the other 99 % are copies of one real stored row (same encrypted token
// envelopes, never decrypted because never due), written by one INSERT … SELECT generate_series.
// Then:
// 1. the sweep's queries are EXPLAINed (ANALYZE, BUFFERS) on the million rows (plans → bench/scale-plans.md);
// 2. one in-process sweep over the due set (vault on the same database, no random spread) is timed, and a sweep with
//    nothing due is timed on the million rows: O(due), not O(stored);
// 3. the due set is made due again and two real `serve` processes share the database for BENCH_SCALE_WINDOW seconds:
//    who refreshed what (the per-connection lease each instance's claim sets, polled; a refreshed row counts for the
//    last holder seen on it), whether any connection was refreshed twice (row versions
//    and the emulator's refresh-grant count), refreshes/s at the production settings, RSS of each, and token GET
//    throughput on one of them during the sweep against the same two instances before it with nothing due and the
//    same lease sampling running (one API key, API_KEY_RATE_LIMIT=off), each measured after a warm-up run of the same
//    length: the ratio is the sweep's own cost, not the second process's, the bench's or a cold process's.
// The whole run is bounded (BENCH_SCALE_DEADLINE_S, default 14 min): past it, the children are killed and it exits 1.

import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import {
  addDemoIntegration,
  BIN,
  cannon,
  isolatedEnv,
  loadAverage,
  median,
  ROOT,
  realGrant,
  report,
  rssMb,
  startEmulatorProcess,
  startProcess,
} from './lib.mjs';

const TOTAL = Number(process.env.BENCH_SCALE_ROWS ?? 1_000_000);
const DUE = Math.round(TOTAL / 100);
const WINDOW_S = Number(process.env.BENCH_SCALE_WINDOW ?? 120);
const LOAD_S = Number(process.env.BENCH_SCALE_LOAD_S ?? 10);
const DB = process.env.BENCH_SCALE_DB ?? 'webex_auth_scale';
const SERVER = process.env.BENCH_SCALE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
if (DB === 'test') throw new Error('the scale bench never uses the test suite’s database');
const DEADLINE_S = Number(process.env.BENCH_SCALE_DEADLINE_S ?? 14 * 60);
const GRANT_CONCURRENCY = 16;
const DAY = 86_400_000;

const children = new Set();
const deadline = setTimeout(() => {
  console.error(`scale: past ${DEADLINE_S} s, stopping`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}, DEADLINE_S * 1000);

const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { loadConfig } = await dist('config.js');
const { openVault } = await dist('vault/index.js');
const { DEMO_SEED } = await dist('emulator/index.js');
const demo = DEMO_SEED.integrations[0];

const rows = [];
const notes = [];
const load = async () => `load ${await loadAverage()}`;
const seconds = (t0) => (performance.now() - t0) / 1000;

// A fresh database of our own.
const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB}`);
const DATABASE_URL = `${SERVER}/${DB}`;

const emu = await startEmulatorProcess();
children.add(emu.child);
const emulator = emu.match[1];
const apiBase = `${emulator}/v1`;
const agent = new Agent({ keepAlive: true, maxSockets: GRANT_CONCURRENCY });
const serveEnv = (extra = {}) =>
  isolatedEnv({
    WEBEX_CLIENT_ID: demo.clientId,
    WEBEX_CLIENT_SECRET: demo.clientSecret,
    WEBEX_REDIRECT_URI: demo.redirectUris[0],
    WEBEX_API_BASE: apiBase,
    WEBEX_SCOPES: 'spark:people_read',
    DATABASE_URL,
    API_KEY_RATE_LIMIT: 'off',
    ...extra,
  });

/** Runs `task(i)` for i in 0…n-1 with `width` in flight; the results in order. */
async function pooled(n, width, task) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

const sql = new pg.Client({ connectionString: DATABASE_URL });
let servers = [];
try {
  // ── Set-up ──────────────────────────────────────────────────────────────────────────────────────────────────────
  const setup0 = performance.now();
  const vault = await openVault(loadConfig({ env: serveEnv(), dotenvDir: false }), { keepAliveJitterMs: 0 });
  const integrationId = await addDemoIntegration(vault, demo, apiBase);
  let t0 = performance.now();
  const pool = await pooled(DUE + 1, GRANT_CONCURRENCY, () => realGrant(apiBase, demo, agent));
  const grantS = seconds(t0);
  t0 = performance.now();
  const now = Date.now();
  const saved = await pooled(DUE + 1, 8, (i) =>
    vault.connections.saveFromGrant({
      integrationId,
      tokens: {
        accessToken: pool[i].access_token,
        refreshToken: pool[i].refresh_token,
        tokenType: 'Bearer',
        expiresAt: now + pool[i].expires_in * 1000,
        refreshExpiresAt: now + pool[i].refresh_token_expires_in * 1000,
        scopes: ['spark:people_read'],
        scopeReported: true,
        receivedAt: now,
      },
      person: { id: `scale-due-${i}`, emails: [`due${i}@example.com`], displayName: `Due ${i}` },
      requestedScopes: ['spark:people_read'],
    }),
  );
  const saveS = seconds(t0);
  // The last one serves the token GETs and is never due; the others are the due set.
  const served = saved.pop();
  const dueIds = saved.map((c) => c.id);
  const key = (await vault.apiKeys.create({ name: 'scale', connectionIds: [served.id] })).key;

  await sql.connect();
  // The other 99 %: copies of one stored row (its encrypted envelopes are never decrypted: never due).
  const columns = (
    await sql.query(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'connections' AND table_schema = current_schema() ORDER BY ordinal_position",
    )
  ).rows.map((r) => r.column_name);
  const override = {
    id: `'conn_scale_' || g`,
    person_id: `'scale-' || g`,
    person_email: `'p' || g || '@example.com'`,
    person_emails: `'["p' || g || '@example.com"]'`,
    display_name: `'Person ' || g`,
    // Due 30 to 60 days from now: never inside this run.
    keepalive_due_at: `${now + 30 * DAY}::bigint + (g % 30) * ${DAY}::bigint`,
    created_at: `${now}::bigint`,
    updated_at: `${now}::bigint`,
  };
  t0 = performance.now();
  const filler = TOTAL - DUE - 1;
  const chunk = 250_000;
  for (let from = 1; from <= filler; from += chunk) {
    const to = Math.min(filler, from + chunk - 1);
    await sql.query(
      `INSERT INTO connections (${columns.join(', ')})
       SELECT ${columns.map((c) => override[c] ?? `t.${c}`).join(', ')}
       FROM connections t, generate_series(${from}, ${to}) g WHERE t.id = $1`,
      [served.id],
    );
    console.log(`scale: ${to + DUE + 1} rows stored (${seconds(t0).toFixed(0)} s)`);
  }
  await sql.query('ANALYZE connections');
  const insertS = seconds(t0);
  /** Makes the due set due now (the production clock: serve cannot be given another). */
  const makeDue = (at = Date.now() - 60_000) =>
    sql.query('UPDATE connections SET keepalive_due_at = $1 WHERE id = ANY($2)', [at, dueIds]);
  await makeDue();
  const count = Number((await sql.query('SELECT count(*) FROM connections')).rows[0].count);
  const setupS = seconds(setup0);
  const size = (await sql.query("SELECT pg_size_pretty(pg_total_relation_size('connections')) AS s")).rows[0].s;
  rows.push({ name: `set-up: ${count} rows (${DUE} due with real grants)`, value: setupS, unit: 's' });
  notes.push(
    `set-up ${setupS.toFixed(1)} s: ${DUE + 1} real grants at the emulator ${grantS.toFixed(1)} s, stored through the vault ${saveS.toFixed(1)} s, ${filler} copies by INSERT … SELECT generate_series + ANALYZE ${insertS.toFixed(1)} s; connections table with indexes ${size}; ${await load()}`,
  );

  // ── 1. One sweep over the due set (its statements recorded), and one with nothing due ──────────────────────────
  const stats = async () => (await (await fetch(`${emulator}/_emulator/stats`)).json()).grants.refresh_token;
  let before = await stats();
  const statements = new Map();
  let capture = true;
  const query = pg.Pool.prototype.query;
  pg.Pool.prototype.query = function (config, ...rest) {
    if (capture && typeof config === 'object' && config?.text && !statements.has(config.text))
      statements.set(config.text, config.values ?? []);
    return query.call(this, config, ...rest);
  };
  t0 = performance.now();
  const swept = await vault.sweepOnce();
  const sweepS = seconds(t0);
  capture = false;
  pg.Pool.prototype.query = query;
  const upstream = (await stats()) - before;
  const loadSweep = await load();
  const empty = [];
  for (let i = 0; i < 20; i++) {
    const e = performance.now();
    await vault.sweepOnce();
    empty.push(performance.now() - e);
  }
  await vault.close();
  rows.push(
    {
      name: `one sweep over ${DUE} due of ${count} (in-process, concurrency 4, no spread)`,
      value: sweepS,
      unit: 's',
      target: 'all refreshed once',
      pass: swept.refreshed === DUE && swept.failed === 0 && upstream === DUE,
    },
    { name: 'that sweep, refreshes/s', value: DUE / sweepS, unit: '/s' },
    { name: `sweep with nothing due, ${count} stored (median of 20)`, value: median(empty), unit: 'ms' },
  );
  notes.push(
    `in-process sweep: ${swept.refreshed} refreshed, ${swept.failed} failed, ${upstream} refresh grants at the emulator, ${sweepS.toFixed(1)} s (${((sweepS * 1000) / DUE).toFixed(2)} ms per due connection), ${loadSweep}; an empty sweep on ${count} rows takes ${median(empty).toFixed(2)} ms`,
  );

  // ── 2. The statements that sweep ran, EXPLAINed on the million rows (due set due again) ──────────────────────────
  if (statements.size === 0) throw new Error('no statement of the sweep was recorded (is pg the same module?)');
  await makeDue();
  const plans = [];
  for (const [text, recorded] of statements) {
    // The due query as a sweep starting now would send it; the others with their first parameters (a write whose
    // row version has moved on since matches no row, its plan is the same).
    const values = /keepalive_due_at <= /.test(text) ? [Date.now(), ...recorded.slice(1)] : recorded;
    const write = !/^\s*SELECT/i.test(text);
    if (write) await sql.query('BEGIN');
    try {
      const plan = (await sql.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      plans.push({ text: text.replace(/\s+/g, ' ').trim(), plan });
    } finally {
      if (write) await sql.query('ROLLBACK');
    }
  }
  const seqScans = plans.filter((p) => /Seq Scan on connections/.test(p.plan));
  writeFileSync(
    join(ROOT, 'bench', 'scale-plans.md'),
    [
      `# Keep-alive sweep query plans on ${count.toLocaleString('en')} connections (PostgreSQL)`,
      '',
      `Written by \`npm run bench -- scale\` on ${new Date().toISOString().slice(0, 16)}Z: ${count} rows, ${DUE} due, connections table ${size}, ${await load()}. These are the ${plans.length} distinct statements the vault sent during one keep-alive sweep over the due set (recorded from its \`pg\` pool), each with the parameters of its first use, run again under \`EXPLAIN (ANALYZE, BUFFERS)\` with the due set due again (the due query with the current time); writes ran inside a transaction that was rolled back, and a write recorded with a row version the sweep has since moved past matches no row (rows=0) but has the same plan.`,
      '',
      ...plans.flatMap((p, i) => [
        `## ${i + 1}. ${p.text.slice(0, 60)}…`,
        '',
        '```sql',
        p.text,
        '```',
        '',
        '```',
        p.plan,
        '```',
        '',
      ]),
    ].join('\n'),
  );
  rows.push({
    name: 'sweep statements with a Seq Scan over connections',
    value: seqScans.length,
    unit: `of ${plans.length}`,
    target: 'none',
    pass: seqScans.length === 0,
  });
  if (seqScans.length) notes.push(`Seq Scan over connections in: ${seqScans.map((p) => p.text).join(' | ')}`);

  // ── 3. Two serve instances ──────────────────────────────────────────────────────────────────────────────────────
  const path = `/api/v1/connections/${encodeURIComponent(served.id)}/token`;
  const startServe = async (name) => {
    const s = await startProcess(process.execPath, [BIN, 'serve', '--port', '0'], {
      env: serveEnv({ LOG_LEVEL: 'info' }),
    });
    children.add(s.child);
    const base = s.match[1].replace('localhost', '127.0.0.1');
    return { name, ...s, base, pid: s.child.pid };
  };
  // SIGINT, then SIGKILL after 15 s: serve's close waits for a sweep in flight, which at the production pace can take
  // most of an hour with thousands due.
  const stop = async (s) => {
    if (s.child.exitCode === null) {
      const exited = new Promise((r) => s.child.once('exit', () => r(true)));
      const t = performance.now();
      s.child.kill('SIGINT');
      if (!(await Promise.race([exited, new Promise((r) => setTimeout(() => r(false), 15_000))]))) {
        notes.push(
          `serve ${s.name} had not exited ${seconds(t).toFixed(0)} s after SIGINT (a sweep in flight): killed`,
        );
        s.child.kill('SIGKILL');
        await exited;
      }
    }
    children.delete(s.child);
  };
  /** Waits until serve's RSS stops growing (its start-up work is done: 2 samples 1 s apart within 2 %), ≤ 90 s. */
  const settled = async (s) => {
    const t = performance.now();
    let last = rssMb(s.pid);
    for (let i = 0; i < 90; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = rssMb(s.pid);
      if (Math.abs(now - last) / last < 0.02 && i >= 2) break;
      last = now;
    }
    return { s: seconds(t), rss: rssMb(s.pid) };
  };
  const tokenLoad = async (base) => {
    const check = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    if (check.status !== 200) throw new Error(`token GET answered ${check.status}: ${await check.text()}`);
    const r = await cannon({
      url: base,
      duration: LOAD_S,
      connections: 20,
      requests: [{ method: 'GET', path, headers: { authorization: `Bearer ${key}` } }],
    });
    if (r.non2xx) throw new Error(`${r.non2xx} token GETs failed`);
    return r.requests.average;
  };

  /** The lease sampling's query (every 250 ms during the window): the baseline runs it too, so the ratio is the sweep's. */
  const leasedRows = () =>
    sql.query('SELECT id, lease_holder FROM connections WHERE id = ANY($1) AND lease_holder IS NOT NULL', [dueIds]);

  // Baseline: the same two serve instances, nothing due, the same sampling running; token GETs on the first.
  await makeDue(Date.now() + 30 * DAY);
  const [solo, idle] = await Promise.all([startServe('baseline'), startServe('baseline B')]);
  const [soloSettled] = await Promise.all([settled(solo), settled(idle)]);
  notes.push(
    `a serve start on ${count} rows: listening after ${(solo.readyMs / 1000).toFixed(1)} s, settled (RSS steady) ${soloSettled.s.toFixed(0)} s later at ${soloSettled.rss.toFixed(0)} MB RSS`,
  );
  const baseSampler = setInterval(() => leasedRows().catch((e) => console.error(e)), 250);
  await tokenLoad(solo.base); // warm-up
  const loadBase = await load();
  const baseRps = await tokenLoad(solo.base);
  clearInterval(baseSampler);
  await stop(solo);
  await stop(idle);

  await makeDue();
  const versions = new Map(
    (await sql.query('SELECT id, version FROM connections WHERE id = ANY($1)', [dueIds])).rows.map((r) => [
      r.id,
      Number(r.version),
    ]),
  );
  before = await stats();
  const windowStart = Date.now();
  servers = await Promise.all([startServe('A'), startServe('B')]);
  const byPid = new Map(servers.map((s) => [String(s.pid), s]));
  for (const s of servers) {
    s.refreshed = 0;
    s.rss = [];
  }
  const holders = new Set();
  /** Connection id → the instance whose claim (per-connection lease) was last seen on it. */
  const claimedBy = new Map();
  let sampling = false;
  const sample = async () => {
    if (sampling) return;
    sampling = true;
    try {
      const leased = await leasedRows();
      for (const r of leased.rows) {
        const owner = byPid.get(String(r.lease_holder).split('-')[0]);
        holders.add(owner?.name ?? r.lease_holder);
        if (owner) claimedBy.set(r.id, owner);
      }
      for (const s of servers) s.rss.push(rssMb(s.pid));
    } finally {
      sampling = false;
    }
  };
  const sampler = setInterval(() => sample().catch((e) => console.error(e)), 250);
  // Token GETs on A once both have done their start-up work, while the sweep runs.
  const [settledA, settledB] = await Promise.all(servers.map(settled));
  notes.push(
    `the two serve processes settled ${settledA.s.toFixed(0)} s and ${settledB.s.toFixed(0)} s after listening (${settledA.rss.toFixed(0)} and ${settledB.rss.toFixed(0)} MB RSS)`,
  );
  // Warmed up as the baseline is: the first 10 s of token GETs on a fresh serve process got 0.43–0.78× the req/s of the
  // next 10 s, with a sweep running or not, so a cold run here measured the process's warm-up, not the sweep.
  await tokenLoad(servers[0].base);
  const loadDuring = await load();
  const duringRps = await tokenLoad(servers[0].base);
  await new Promise((r) => setTimeout(r, Math.max(0, windowStart + WINDOW_S * 1000 - Date.now())));
  clearInterval(sampler);
  await sample();
  const windowS = (Date.now() - windowStart) / 1000;
  const loadWindow = await load();
  // Both stopped before counting: a refresh in flight between the two counts made grants and rows differ by one.
  for (const s of servers) await stop(s);
  servers = [];
  const shared = (await stats()) - before;
  const after = (await sql.query('SELECT id, version FROM connections WHERE id = ANY($1)', [dueIds])).rows;
  let changed = 0;
  let twice = 0;
  let unattributed = 0;
  for (const r of after) {
    const d = Number(r.version) - versions.get(r.id);
    if (d > 0) changed++;
    if (d > 1) twice++;
    if (d > 0) {
      const owner = claimedBy.get(r.id);
      if (owner) owner.refreshed++;
      else unattributed++;
    }
  }
  if (unattributed) holders.add(`unattributed ${unattributed}`);
  const total = [...byPid.values()].reduce((n, s) => n + s.refreshed, 0);

  rows.push({
    name: `two serve instances, ${windowS.toFixed(0)} s: connections refreshed more than once`,
    value: twice,
    unit: `(${changed} refreshed, ${shared} refresh grants at the emulator)`,
    target: '0, grants = refreshed',
    pass: twice === 0 && shared === changed,
  });
  for (const s of byPid.values()) {
    const share = total ? s.refreshed / total : 0;
    rows.push({
      name: `instance ${s.name}: share of the sweep`,
      value: share * 100,
      unit: `% (${s.refreshed} of ${total})`,
      target: '30–70 %',
      pass: share >= 0.3 && share <= 0.7,
    });
    rows.push({
      name: `instance ${s.name}: RSS (end / max)`,
      value: s.rss.at(-1),
      unit: `MB / ${Math.max(...s.rss).toFixed(1)} MB`,
    });
  }
  rows.push(
    {
      name: 'refreshes/s during the shared sweep (KEEPALIVE_RATE 2 per instance, 4 at a time)',
      value: changed / windowS,
      unit: '/s',
    },
    {
      name: 'token GET on A during the sweep',
      value: duringRps,
      unit: 'req/s',
      baseline: baseRps,
      ratio: duringRps / baseRps,
      target: '≥ 0.8×',
      pass: duringRps / baseRps >= 0.8,
    },
  );
  notes.push(
    'the production sweep (serve) starts KEEPALIVE_RATE (default 2) refreshes per second per instance, at most KEEPALIVE_CONCURRENCY (default 4) in flight (src/vault/keepalive.ts); each instance claims its own due rows',
    `two serve processes on the scale database for ${windowS.toFixed(0)} s (${loadWindow}): rows claimed by ${[...holders].join(', ') || 'nobody'}; ${changed} of ${DUE} due refreshed, ${twice} more than once, ${shared} refresh grants at the emulator; token GET ${baseRps.toFixed(0)} req/s with nothing due (both instances up, the same sampling; ${loadBase}) and ${duringRps.toFixed(0)} req/s during (${loadDuring}), ${LOAD_S} s each, 20 connections, one key`,
  );
} finally {
  for (const s of servers) s.child.kill('SIGINT');
  for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
  agent.destroy();
  await sql.end().catch(() => {});
  if (process.env.BENCH_SCALE_KEEP !== '1')
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => {});
  await admin.end();
  clearTimeout(deadline);
}
report('scale', rows, notes, { section: `Scale (PostgreSQL, ${TOTAL.toLocaleString('en')} connections)` });
