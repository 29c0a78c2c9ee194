// Shared helpers of the benchmarks. Every figure is reported next to a baseline measured in the same run,
// because these machines are noisy: the ratio is what we compare against targets, not the absolute number.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'dist', 'cli', 'main.js');
export const WORK = join(ROOT, 'bench', '.work');

/** A 32-byte key ring entry for benchmarks only. */
export const BENCH_KEYS = `bench:${Buffer.alloc(32, 7).toString('base64')}`;

/** A fresh, isolated environment for a webex-auth process (its own data dir and key). */
export function isolatedEnv(extra = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wa-bench-'));
  return { ...process.env, XDG_DATA_HOME: dir, WEBEX_AUTH_KEYS: BENCH_KEYS, LOG_LEVEL: 'silent', NO_COLOR: '1', ...extra };
}

/** Median of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
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
export function startProcess(cmd, args, { env = process.env, ready = /listening on (http:\/\/\S+)/ } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
 * Records one benchmark's rows: `{ name, value, unit, baseline?, ratio?, target?, pass? }`.
 * Printed for the reader and written to bench/.work/<bench>.json for run.mjs to collect into RESULTS.md.
 */
export function report(bench, rows, notes = []) {
  mkdirSync(WORK, { recursive: true });
  writeFileSync(join(WORK, `${bench}.json`), JSON.stringify({ bench, rows, notes, at: new Date().toISOString() }, null, 2));
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '' : `  ratio ${r.ratio.toFixed(2)}`;
    const target = r.target ? `  target ${r.target} → ${r.pass ? 'met' : 'MISSED'}` : '';
    console.log(`${bench}: ${r.name}: ${fmt(r.value)} ${r.unit}${r.baseline === undefined ? '' : ` (baseline ${fmt(r.baseline)})`}${ratio}${target}`);
  }
}

/** Formats a number for tables. */
export function fmt(n) {
  if (typeof n !== 'number' || Number.isNaN(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}
