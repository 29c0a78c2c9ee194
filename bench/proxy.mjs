// Webex proxy: proxied `GET people/me` (`/api/v1/connections/:id/proxy/people/me`, `webex-auth serve` pointed at the
// emulator) against the same call through a bare node:http forwarder written here (keep-alive agent, a fixed bearer
// token, headers and body piped through), in the same run. Targets (issue 18): server CPU per call ≤ 1.5× the bare
// forwarder's; mean added latency over calling the emulator directly ≤ 1 ms.
//
// - Latency: SEQUENTIAL calls, one at a time over one keep-alive socket, alternating direct / bare / proxy in rounds
//   so that each sees the same machine load; the mean of each minus the direct mean is the added latency (µs, from
//   process.hrtime). The emulator runs in its own process; so do the broker and the bare forwarder.
// - CPU (first, which also warms both up for the latency rounds): autocannon at CONNECTIONS concurrent connections
//   for WARMUP_S + SECONDS against each forwarder; over the last SECONDS, the forwarder's CPU (user + system, from
//   /proc) divided by the calls it answered. The emulator's CPU is not counted on either side.
// The per-key rate limit is off (API_KEY_RATE_LIMIT=off), so one key with the `proxy` permission makes every call.
// Every proxied call is also kept in the vault's call log (queued, written in batches off the hot path): its cost is
// part of the proxy's CPU figure.
import { Agent } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  addDemoIntegration,
  BIN,
  cannonMeasured,
  connectViaFlow,
  httpRequest,
  isolatedEnv,
  loadAverage,
  ROOT,
  report,
  startEmulatorProcess,
  startProcess,
  WARMUP_S,
} from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 20;
const ROUNDS = Number(process.env.BENCH_PROXY_ROUNDS ?? 2000);

const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { loadConfig } = await dist('config.js');
const { openVault } = await dist('vault/index.js');
const { DEMO_SEED } = await dist('emulator/index.js');

const emu = await startEmulatorProcess();
const apiBase = `${emu.url}/v1`;
const demo = DEMO_SEED.integrations[0];

// One connection from a real flow, one proxy key, and its access token for the bare forwarder.
const env = isolatedEnv({
  WEBEX_CLIENT_ID: demo.clientId,
  WEBEX_CLIENT_SECRET: demo.clientSecret,
  WEBEX_REDIRECT_URI: demo.redirectUris[0],
  WEBEX_API_BASE: apiBase,
  WEBEX_SCOPES: 'spark:people_read',
  API_KEY_RATE_LIMIT: 'off',
});
const vault = await openVault(loadConfig({ env, dotenvDir: false }));
const connection = await connectViaFlow(vault, await addDemoIntegration(vault, demo, apiBase));
const { key } = await vault.apiKeys.create({ name: 'bench', connectionIds: [connection.id], permissions: ['proxy'] });
const accessToken = (await vault.connections.revealTokens(connection.id)).accessToken;
await vault.close();

// The bare forwarder: what any hand-written proxy does at least — map the path, set the bearer token, pipe both ways.
const BARE_FORWARDER = `
const http = require('node:http');
const up = new URL(process.env.UPSTREAM);
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const prefix = /^\\/api\\/v1\\/connections\\/[^/]+\\/proxy\\//;
const hop = new Set(['connection','keep-alive','transfer-encoding','upgrade','host','authorization','te','trailer']);
http.createServer((req, res) => {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!hop.has(k)) headers[k] = v;
  headers.authorization = 'Bearer ' + process.env.TOKEN;
  const out = http.request({ host: up.hostname, port: up.port, method: req.method, agent, headers,
    path: up.pathname + '/' + req.url.replace(prefix, '') }, (answer) => {
    const back = {};
    for (const [k, v] of Object.entries(answer.headers)) if (!hop.has(k)) back[k] = v;
    res.writeHead(answer.statusCode, back);
    answer.pipe(res);
  });
  out.on('error', () => { res.statusCode = 502; res.end(); });
  req.pipe(out);
}).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });
`;
const bare = await startProcess(process.execPath, ['-e', BARE_FORWARDER], {
  env: { ...process.env, UPSTREAM: apiBase, TOKEN: accessToken },
});
const serve = await startProcess(process.execPath, [BIN, 'serve', '--port', '0'], { env });
const bareUrl = bare.match[1];
const brokerUrl = serve.match[1].replace('localhost', '127.0.0.1');
const proxyPath = `/api/v1/connections/${encodeURIComponent(connection.id)}/proxy/people/me`;

const notes = [];
try {
  // CPU per call under load first: the same request on both (the bare forwarder ignores the key), warm-up and
  // measured window on the same connections (lib.mjs cannonMeasured). It also leaves both forwarders warm (JIT) for
  // the latency rounds below, which a fresh `serve` would otherwise spend partly compiling.
  const requests = [{ method: 'GET', path: proxyPath, headers: { authorization: `Bearer ${key}` } }];
  const cpuPerCall = async (url, pid) => {
    const r = await cannonMeasured(pid, { url, connections: CONNECTIONS, requests }, WARMUP_S, SECONDS);
    if (r.bad) notes.push(`${url === bareUrl ? 'bare' : 'proxy'}: ${r.bad} answers were errors or non-2xx`);
    return r;
  };
  const bareLoad = await cpuPerCall(bareUrl, bare.child.pid);
  const proxyLoad = await cpuPerCall(brokerUrl, serve.child.pid);

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const direct = () =>
    httpRequest(`${apiBase}/people/me`, { agent, headers: { authorization: `Bearer ${accessToken}` } });
  const viaBare = () => httpRequest(`${bareUrl}${proxyPath}`, { agent, headers: { authorization: `Bearer ${key}` } });
  const viaBroker = () =>
    httpRequest(`${brokerUrl}${proxyPath}`, { agent, headers: { authorization: `Bearer ${key}` } });
  for (const [name, call] of [
    ['direct', direct],
    ['bare', viaBare],
    ['proxy', viaBroker],
  ]) {
    const r = await call(0);
    if (r.status !== 200) throw new Error(`${name} answered ${r.status}: ${r.body.slice(0, 200)}`);
    if (!r.body.includes('"emails"')) throw new Error(`${name} answered an unexpected body`);
  }
  // A warm-up (the key's first use writes lastUsedAt).
  for (let i = 0; i < 300; i++) {
    await direct();
    await viaBare(i);
    await viaBroker(i);
  }

  const sum = { direct: 0n, bare: 0n, proxy: 0n };
  const timed = async (which, call, i) => {
    const t0 = process.hrtime.bigint();
    const r = await call(i);
    sum[which] += process.hrtime.bigint() - t0;
    if (r.status !== 200) throw new Error(`${which} answered ${r.status}`);
  };
  for (let i = 0; i < ROUNDS; i++) {
    // Rotating the order so none is always first after the others warmed the emulator's socket.
    const order = [
      ['direct', direct],
      ['bare', viaBare],
      ['proxy', viaBroker],
    ];
    for (let j = 0; j < i % 3; j++) order.push(order.shift());
    for (const [which, call] of order) await timed(which, call, i);
  }
  agent.destroy();
  const meanUs = (ns) => Number(ns) / ROUNDS / 1000;
  const directUs = meanUs(sum.direct);
  const bareAdded = meanUs(sum.bare) - directUs;
  const proxyAdded = meanUs(sum.proxy) - directUs;

  notes.push(
    `${ROUNDS} sequential rounds (direct / bare / proxy, rotating order); direct mean ${directUs.toFixed(0)} µs; load ${CONNECTIONS} connections × ${SECONDS} s each; load average ${await loadAverage()}`,
  );
  report(
    'proxy',
    [
      {
        name: 'server CPU per proxied GET people/me (vs bare node:http forwarder)',
        value: proxyLoad.cpuUs,
        unit: 'µs',
        baseline: bareLoad.cpuUs,
        ratio: proxyLoad.cpuUs / bareLoad.cpuUs,
        target: '≤ 1.5×',
        pass: proxyLoad.cpuUs / bareLoad.cpuUs <= 1.5,
      },
      {
        name: 'mean added latency over calling the emulator directly (proxy)',
        value: proxyAdded,
        unit: 'µs',
        baseline: bareAdded,
        target: '≤ 1000 µs',
        pass: proxyAdded <= 1000,
      },
      {
        name: 'throughput under load (proxy)',
        value: proxyLoad.rps,
        unit: 'req/s',
        baseline: bareLoad.rps,
        ratio: proxyLoad.rps / bareLoad.rps,
      },
    ],
    notes,
  );
} finally {
  for (const p of [serve, bare, emu]) {
    if (p.child.exitCode === null) {
      const exited = new Promise((r) => p.child.once('exit', r));
      p.child.kill('SIGINT');
      await exited;
    }
  }
}
