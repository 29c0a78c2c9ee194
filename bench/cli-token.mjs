// `webex-auth token` on a fresh cached token, and `webex-auth --help`, against `node -e 0` in the same run.
// Targets: each ≤ 1.5× the bare node start-up (issue 8); `token` ≤ 1.25× without NODE_EXTRA_CA_CERTS, wall and CPU
// (issue 20: that variable's CA parsing, ~80 % of a bare start, hides what the CLI adds). Uses hyperfine when installed (Debian package), else a node loop.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, isolatedEnv, median, ROOT, report, timeCommand } from './lib.mjs';

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
// Other work on the machine drifts between hyperfine's back-to-back batches, so the runs are split into rounds, the
// commands' order rotates every round, and each ratio is taken against the baseline of its own round; the figure is
// the median over rounds, with the lowest and highest round beside it.
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const perRound = Math.max(3, Math.ceil(RUNS / ROUNDS));
const names = Object.keys(commands);
let tool;
const hyperfine = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' });

/** Runs the rounds with `runEnv`; returns each round's wall and CPU milliseconds per command. */
function measure(runEnv) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    const wall = {};
    const cpuMs = {};
    if (hyperfine.status === 0) {
      tool = hyperfine.stdout.trim();
      const out = join(mkdtempSync(join(tmpdir(), 'wa-hf-')), 'hf.json');
      const quote = (a) => (/^[\w./=-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
      const lines = order.map((k) => [commands[k][0], ...commands[k][1]].map(quote).join(' '));
      const h = spawnSync(
        'hyperfine',
        // stdout is a pipe, as inside $(webex-auth token). hyperfine's default, /dev/null, is a character device, which the
        // CLI cannot tell from a terminal without loading node:tty, so it would get Node's stdout stream instead.
        ['-N', '--output=pipe', '--warmup', '2', '--runs', String(perRound), '--export-json', out, ...lines],
        { env: runEnv, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      if (h.status !== 0) throw new Error('hyperfine failed');
      const results = JSON.parse(readFileSync(out, 'utf8')).results;
      order.forEach((k, i) => {
        wall[k] = results[i].median * 1000;
        // CPU time (user + system, mean) is steadier than wall time when other work shares the machine.
        cpuMs[k] = (results[i].user + results[i].system) * 1000;
      });
    } else {
      tool = 'node loop (hyperfine not installed)';
      for (const k of order) {
        wall[k] = timeCommand(commands[k][0], commands[k][1], { runs: perRound, env: runEnv }).medianMs;
      }
    }
    rounds.push({ wall, cpu: hyperfine.status === 0 ? cpuMs : undefined });
  }
  return rounds;
}

/**
 * The report rows of `rounds`, their names ending in `suffix`, against `limit` (× `node -e 0`): every row when
 * `tokenOnly` is false, else only the `token` rows (`--help` informational).
 */
function rowsOf(rounds, suffix, limit, tokenOnly = false) {
  const over = (pick) => Object.fromEntries(names.map((k) => [k, median(rounds.map((x) => pick(x)[k]))]));
  const ratios = (pick, k) => rounds.map((x) => pick(x)[k] / pick(x).baseline).sort((a, b) => a - b);
  const ms = over((x) => x.wall);
  const cpu = rounds[0].cpu ? over((x) => x.cpu) : undefined;
  const row = (name, k, figures, pick) => {
    const each = ratios(pick, k);
    const ratio = median(each);
    const spread = each.length > 1 ? ` (rounds ${each[0].toFixed(2)}–${each.at(-1).toFixed(2)}×)` : '';
    return {
      name: `${name}${suffix}${spread}`,
      value: figures[k],
      unit: 'ms',
      baseline: figures.baseline,
      ratio,
      ...(k === 'token' || !tokenOnly ? { target: `≤ ${limit}×`, pass: ratio <= limit } : {}),
    };
  };
  const rows = [
    row('webex-auth token (cached, fresh), wall', 'token', ms, (x) => x.wall),
    row('webex-auth --help, wall', 'help', ms, (x) => x.wall),
  ];
  if (cpu) {
    rows.push(
      row('webex-auth token, CPU user+sys', 'token', cpu, (x) => x.cpu),
      row('webex-auth --help, CPU user+sys', 'help', cpu, (x) => x.cpu),
    );
  }
  return rows;
}

const rows = rowsOf(measure(env), '', 1.5);
// NODE_EXTRA_CA_CERTS makes every Node process parse that bundle at start-up, before any script runs: with a full CA
// bundle (as on the machines these benches ran on) that is ~80 % of bare `node`'s instructions, which hides how much
// the CLI itself adds. Where it is set, the same rounds run once more without it, for information.
if (env.NODE_EXTRA_CA_CERTS) {
  const { NODE_EXTRA_CA_CERTS: _, ...plain } = env;
  rows.push(...rowsOf(measure(plain), ', without NODE_EXTRA_CA_CERTS', 1.25, true));
}
report('cli-token', rows, [
  ...(env.NODE_EXTRA_CA_CERTS
    ? ['NODE_EXTRA_CA_CERTS is set: rows "without NODE_EXTRA_CA_CERTS" run with it unset']
    : []),
  `${ROUNDS} rounds of ${perRound} runs per command (${tool}), the commands' order rotating each round; each ratio is against its own round's \`node -e 0\`, the median over rounds; wall: median per round; CPU: mean user+sys per round`,
]);
