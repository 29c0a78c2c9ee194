// `webex-auth token` on a fresh cached token, and `webex-auth --help`, against `node -e 0` in the same run.
// Target (issue 8): each ≤ 1.5× the bare node start-up. Uses hyperfine when installed (Debian package), else a node loop.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, isolatedEnv, ROOT, report, timeCommand } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const env = isolatedEnv();

// A stored connection whose access token is valid for 14 days: `token` must print it without any network call.
const dist = (p) => pathToFileURL(join(ROOT, 'dist', p)).href;
const { loadConfig } = await import(dist('config.js'));
const { openVault } = await import(dist('vault/index.js'));
const config = loadConfig({ env, dotenvDir: false });
const vault = await openVault(config);
const integration = await vault.integrations.upsert({
  clientId: `C${'b'.repeat(64)}`,
  clientSecret: 's'.repeat(64),
  redirectUri: 'http://localhost:8080/oauth',
  scopes: ['spark:people_read'],
  apiBase: 'http://127.0.0.1:9/v1',
});
const now = Date.now();
await vault.connections.saveFromGrant({
  integrationId: integration.id,
  tokens: {
    accessToken: `bench-access-${'a'.repeat(60)}`,
    refreshToken: `bench-refresh-${'r'.repeat(60)}`,
    tokenType: 'Bearer',
    expiresAt: now + 14 * 86_400_000,
    refreshExpiresAt: now + 90 * 86_400_000,
    scopes: ['spark:people_read'],
    scopeReported: true,
    receivedAt: now,
  },
  person: { id: 'bench-person', emails: ['bench@example.com'], displayName: 'Bench Person' },
  requestedScopes: ['spark:people_read'],
});
await vault.close();

const check = spawnSync(process.execPath, [BIN, 'token'], { env, encoding: 'utf8' });
if (check.status !== 0 || !check.stdout.startsWith('bench-access-')) {
  throw new Error(`webex-auth token did not print the cached token: ${check.stderr}`);
}

const commands = {
  baseline: [process.execPath, ['-e', '0']],
  token: [process.execPath, [BIN, 'token']],
  help: [process.execPath, [BIN, '--help']],
};
let ms;
let cpu;
let tool;
const hyperfine = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' });
if (hyperfine.status === 0) {
  tool = hyperfine.stdout.trim();
  const out = join(mkdtempSync(join(tmpdir(), 'wa-hf-')), 'hf.json');
  const quote = (a) => (/^[\w./=-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const lines = Object.values(commands).map(([c, a]) => [c, ...a].map(quote).join(' '));
  const r = spawnSync('hyperfine', ['-N', '--warmup', '3', '--runs', String(RUNS), '--export-json', out, ...lines], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error('hyperfine failed');
  const results = JSON.parse(readFileSync(out, 'utf8')).results;
  ms = Object.fromEntries(Object.keys(commands).map((k, i) => [k, results[i].median * 1000]));
  // CPU time (user + system, mean) is steadier than wall time when other work shares the machine.
  cpu = Object.fromEntries(Object.keys(commands).map((k, i) => [k, (results[i].user + results[i].system) * 1000]));
} else {
  tool = 'node loop (hyperfine not installed)';
  ms = Object.fromEntries(
    Object.entries(commands).map(([k, [c, a]]) => [k, timeCommand(c, a, { runs: RUNS, env }).medianMs]),
  );
}

const row = (name, value) => ({
  name,
  value,
  unit: 'ms',
  baseline: ms.baseline,
  ratio: value / ms.baseline,
  target: '≤ 1.5×',
  pass: value / ms.baseline <= 1.5,
});
const cpuRow = (name, value) => ({
  ...row(name, value),
  baseline: cpu.baseline,
  ratio: value / cpu.baseline,
  pass: value / cpu.baseline <= 1.5,
});
const rows = [row('webex-auth token (cached, fresh), wall', ms.token), row('webex-auth --help, wall', ms.help)];
if (cpu)
  rows.push(cpuRow('webex-auth token, CPU user+sys', cpu.token), cpuRow('webex-auth --help, CPU user+sys', cpu.help));
report('cli-token', rows, [
  `wall: median of ${RUNS} runs each with ${tool}; CPU: mean user+sys; baseline \`node -e 0\` = ${ms.baseline.toFixed(1)} ms in the same run`,
]);
