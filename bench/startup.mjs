// Server start to /readyz and idle RSS, against a bare node:http server started the same way in the same run.
// Targets (issue 20, replacing issue 9's 400 ms / 100 MB): start to /readyz ≤ 2.5× the bare server's, idle RSS ≤ 80 MB.
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, isolatedEnv, loadAverage, median, report, rssMb, startProcess } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const BARE = `require('node:http').createServer((q,s)=>s.end('{"status":"ready"}')).listen(0,'127.0.0.1',function(){console.log('listening on http://127.0.0.1:'+this.address().port)})`;

async function startToReady(cmd, args, env) {
  const { child, match, t0 } = await startProcess(cmd, args, { env });
  const base = match[1].replace('localhost', '127.0.0.1');
  const res = await fetch(`${base}/readyz`);
  if (res.status !== 200) throw new Error(`/readyz answered ${res.status}`);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { child, ms };
}

const server = [];
const bare = [];
let rss = Number.NaN;
let bareRss = Number.NaN;
for (let i = 0; i < RUNS; i++) {
  const b = await startToReady(process.execPath, ['-e', BARE], process.env);
  bare.push(b.ms);
  if (i === RUNS - 1) {
    await sleep(1000);
    bareRss = rssMb(b.child.pid);
  }
  b.child.kill();
  const s = await startToReady(process.execPath, [BIN, 'serve', '--port', '0'], isolatedEnv());
  server.push(s.ms);
  if (i === RUNS - 1) {
    await sleep(1000);
    rss = rssMb(s.child.pid);
  }
  s.child.kill();
}
const ms = median(server);
const baseMs = median(bare);
report(
  'startup',
  [
    {
      name: 'serve (demo mode) start → /readyz',
      value: ms,
      unit: 'ms',
      baseline: baseMs,
      ratio: ms / baseMs,
      target: '≤ 2.5× bare',
      pass: ms / baseMs <= 2.5,
    },
    {
      name: 'serve idle RSS',
      value: rss,
      unit: 'MB',
      baseline: bareRss,
      ratio: rss / bareRss,
      target: '≤ 80 MB',
      pass: rss <= 80,
    },
  ],
  [
    `median of ${RUNS} starts each, alternating with a bare node:http server that answers /readyz; demo mode includes building and starting the emulator in-process; load average ${await loadAverage()}`,
  ],
);
