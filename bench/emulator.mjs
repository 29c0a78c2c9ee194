// The emulator must not be the bottleneck of the broker benchmarks (issue 5): its token endpoint (refresh grant, a
// new access token minted per request) and GET /v1/people/me should each serve ≥ 5,000 req/s. Measured with
// autocannon against `webex-auth emulator` in a child process, ~5 s each, next to a bare node:http server measured
// the same way in the same run. Also: emulator start-up (spawn → listening line), target < 1 s.
import autocannon from 'autocannon';
import { BIN, median, report, startEmulatorProcess, startProcess } from './lib.mjs';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 10;
const BARE = `require('node:http').createServer((q,s)=>{s.setHeader('content-type','application/json');s.end('{"ok":true}')}).listen(0,'127.0.0.1',function(){console.log('listening on http://127.0.0.1:'+this.address().port)})`;

function run(opts, duration) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** One second of warm-up (JIT, connections), then the measured run. */
async function cannon(opts) {
  await run(opts, 1);
  return run(opts, DURATION);
}

/** Stops a child and waits for it (SIGKILL if it has not exited after 3 s), so no emulator outlives the bench. */
function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function rate(result, what) {
  if (result.errors || result.non2xx) console.warn(`${what}: ${result.errors} errors, ${result.non2xx} non-2xx`);
  return result.requests.average;
}

// Start-up: spawn → "listening on" line.
const starts = [];
for (let i = 0; i < 5; i++) {
  const { child, readyMs } = await startProcess(process.execPath, [BIN, 'emulator', '--port', '0']);
  starts.push(readyMs);
  await stop(child);
}

const bare = await startProcess(process.execPath, ['-e', BARE]);
const bareRate = rate(await cannon({ url: bare.match[1] }), 'bare');
await stop(bare.child);

const emu = await startEmulatorProcess();
const url = emu.match[1];
const { DEMO_SEED } = await import('../dist/emulator/index.js');
const it = DEMO_SEED.integrations[0];
const redirect = it.redirectUris[0];
const auth = new URL(`${url}/v1/authorize`);
auth.search = new URLSearchParams({
  client_id: it.clientId,
  response_type: 'code',
  redirect_uri: redirect,
  scope: 'spark:people_read',
  state: 's',
}).toString();
const code = new URL((await fetch(auth, { redirect: 'manual' })).headers.get('location')).searchParams.get('code');
const creds = { client_id: it.clientId, client_secret: it.clientSecret };
const tokens = await (
  await fetch(`${url}/v1/access_token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, ...creds }),
  })
).json();

const tokenRate = rate(
  await cannon({
    url: `${url}/v1/access_token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      ...creds,
    }).toString(),
  }),
  'token',
);
const meRate = rate(
  await cannon({ url: `${url}/v1/people/me`, headers: { authorization: `Bearer ${tokens.access_token}` } }),
  'people/me',
);
await stop(emu.child);

const startMs = median(starts);
report('emulator', [
  { name: 'emulator start → listening line', value: startMs, unit: 'ms', target: '< 1000 ms', pass: startMs < 1000 },
  {
    name: 'POST /v1/access_token (refresh grant)',
    value: tokenRate,
    unit: 'req/s',
    baseline: bareRate,
    ratio: tokenRate / bareRate,
    target: '≥ 5000 req/s',
    pass: tokenRate >= 5000,
  },
  {
    name: 'GET /v1/people/me',
    value: meRate,
    unit: 'req/s',
    baseline: bareRate,
    ratio: meRate / bareRate,
    target: '≥ 5000 req/s',
    pass: meRate >= 5000,
  },
]);
