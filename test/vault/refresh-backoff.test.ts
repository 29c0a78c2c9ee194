/**
 * Failing refreshes back off: the broker and the emulator on one moved clock, the emulator's token endpoint answering
 * 503 for 48 hours. One connection costs a bounded number of token requests (counted by the emulator), each one in
 * the refresh history; token requests without a valid token get 503 + Retry-After (the next attempt) without a Webex
 * call; `connection.refresh_failing` fires once, and `connection.recovered` once when the faults stop. The same
 * 48 hours driven only by the broker's own hourly keep-alive sweep (no token request) retry the connection at its
 * next attempt times and recover it by itself.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { VaultError } from '../../src/vault/types.js';
import { connectFromEmulator, control, testSeed } from './emulator-grant.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, TEST_KEY, tempDir, testConfig } from './helpers.js';
import { eventTypes, requestCount, until, webhookReceiver } from './lifecycle-support.js';

const HOUR_S = 3600;
const pgUp = await postgresAvailable();
let emulator: RunningEmulator;
const dir = tempDir();
beforeAll(async () => {
  emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com', accessTtl: HOUR_S });
});
afterAll(async () => {
  await emulator?.close();
  dir.cleanup();
});

/** One failing-refresh run: a vault and the emulator on one clock `advance` moves, and a webhook receiver. */
interface BackoffRun {
  vault: VaultInternals;
  hooks: Awaited<ReturnType<typeof webhookReceiver>>;
  /** The vault's clock: now plus every `advance` so far. */
  clock: () => number;
  /** Moves the vault's clock and the emulator's by `seconds`. */
  advance: (seconds: number) => Promise<void>;
  /** Closes the vault and the receiver, resets the emulator (clock, faults) and drops the PostgreSQL schema. */
  close: () => Promise<void>;
}

/**
 * Opens a vault sending webhooks to a fresh receiver, on SQLite (`dbFile` in the temp dir) or PostgreSQL (a fresh
 * schema named after `schemaPrefix`), with retries and webhook deliveries 1 ms apart and `env` settings on top.
 */
async function startBackoffRun(
  postgres: boolean,
  storage: { schemaPrefix: string; dbFile: string },
  env: Record<string, string> = {},
): Promise<BackoffRun> {
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;
  const advance = async (seconds: number) => {
    offsetMs += seconds * 1000;
    await control(emulator.url, 'clock', { advanceSeconds: seconds });
  };
  const hooks = await webhookReceiver();
  const schema = freshSchema(storage.schemaPrefix);
  const settings = { WEBEX_AUTH_KEYS: TEST_KEY, WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: 'w'.repeat(32), ...env };
  const vault = await openVault(
    testConfig(
      postgres ? { ...settings, DATABASE_URL: PG_URL } : { ...settings, WEBEX_AUTH_DB: join(dir.dir, storage.dbFile) },
    ),
    { clock, retryBaseDelayMs: 1, webhookBaseDelayMs: 1, ...(postgres ? { schema } : {}) },
  );
  const close = async () => {
    await vault.close();
    await hooks.close();
    await control(emulator.url, 'reset', {});
    await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
    if (postgres) await dropSchema(schema);
  };
  return { vault, hooks, clock, advance, close };
}

/** Checks the lifecycle webhooks of connection `id` (refreshes aside): created, refresh_failing once, recovered once. */
async function expectOneFailingRunEvents(run: BackoffRun, id: string): Promise<void> {
  await run.vault.drainWebhooks();
  await until(() => eventTypes(run.hooks.bodies, id).includes('connection.recovered'), 'the recovered event');
  const lifecycle = eventTypes(run.hooks.bodies, id).filter((e) => e !== 'connection.refreshed');
  expect(lifecycle).toEqual(['connection.created', 'connection.refresh_failing', 'connection.recovered']);
}

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
])('a refresh failing for two days (%s)', (_name, postgres) => {
  it.skipIf(postgres && !pgUp)(
    'costs a bounded, logged number of attempts and recovers by itself',
    async () => {
      const run = await startBackoffRun(postgres, { schemaPrefix: 'backoff', dbFile: 'b.db' });
      const { vault, clock, advance } = run;
      try {
        const { id } = await connectFromEmulator(vault, emulator.apiBase, clock);
        await control(emulator.url, 'faults', { endpoint: 'token', status: 503, count: 100_000 });
        await fetch(`${emulator.url}/_emulator/stats`, { method: 'DELETE' });

        // 48 hours in 5-minute steps: a bot asks for the token at every step.
        let served = 0;
        let refused = 0;
        let checkedNoCall = false;
        for (let t = 0; t < 48 * HOUR_S; t += 300) {
          await advance(300);
          const before = await requestCount(emulator, 'POST /v1/access_token');
          const c = await vault.connections.get(id);
          const answer = await vault.connections.getFreshToken(id).catch((e: unknown) => e);
          if (answer instanceof VaultError) {
            expect(answer.code).toBe('upstream_unavailable');
            expect(answer.retryAfter).toBeGreaterThan(0);
            refused++;
            // Inside the back-off, no valid token: 503 + Retry-After (the next attempt), and Webex is not asked.
            if (c?.nextAttemptAt !== undefined && c.nextAttemptAt > clock() && c.accessExpiresAt <= clock()) {
              expect(await requestCount(emulator, 'POST /v1/access_token')).toBe(before);
              // The real clock moves on between the answer and this check: the answer may be a second longer.
              const left = Math.max(1, Math.ceil((c.nextAttemptAt - clock()) / 1000));
              expect(answer.retryAfter).toBeGreaterThanOrEqual(left);
              expect(answer.retryAfter).toBeLessThanOrEqual(left + 1);
              checkedNoCall = true;
            }
          } else {
            expect(answer).toMatchObject({ accessToken: expect.any(String) });
            served++;
          }
        }
        expect(checkedNoCall).toBe(true);
        expect(served).toBeGreaterThan(0); // the first hour's token, while it lived
        expect(refused).toBeGreaterThan(500);

        const attempts = await requestCount(emulator, 'POST /v1/access_token 503');
        expect(await requestCount(emulator, 'POST /v1/access_token')).toBe(attempts);
        // The schedule: 3 tries at the first failure, then one each after 30 s, 1 min, 5 min, an hour's bound, 1 h,
        // then every 6 h — 15 requests over the 47 failing hours; never thousands.
        expect(attempts).toBeGreaterThanOrEqual(10);
        expect(attempts).toBeLessThanOrEqual(20);
        console.info(`48 h of 503s cost one connection ${attempts} token requests`);

        const failing = await vault.connections.get(id);
        expect(failing).toMatchObject({ status: 'active', refreshFailing: true, lastErrorStatus: 503 });
        expect(failing?.nextAttemptAt).toBeGreaterThan(clock());
        // Logged: each scheduled attempt is a `failing` line of the refresh history.
        const history = await vault.connections.history(id);
        const failed = history.filter((h) => h.outcome === 'failing');
        expect(failed.length).toBeGreaterThanOrEqual(10);
        expect(failed.every((h) => h.status === 503 && h.kind === 'ondemand')).toBe(true);

        // Webex is back: at the next attempt the connection recovers by itself.
        await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
        await advance(Math.ceil(((failing?.nextAttemptAt ?? 0) - clock()) / 1000) + 1);
        const token = await vault.connections.getFreshToken(id);
        expect(token.minValidityMet).toBe(true);
        const recovered = await vault.connections.get(id);
        expect(recovered).toMatchObject({ status: 'active', refreshFailing: false, refreshFailures: 0 });
        expect((await vault.connections.history(id, 1))[0]).toMatchObject({ outcome: 'success', status: 200 });

        await expectOneFailingRunEvents(run, id);
      } finally {
        await run.close();
      }
    },
    180_000,
  );

  it.skipIf(postgres && !pgUp).each([
    ['the keep-alive sweep', 'keepalive'],
    ['one token request', 'ondemand'],
  ] as const)(
    'is retried by the broker’s own schedule alone, and recovers by itself (failing run started by %s)',
    async (_what, trigger) => {
      // KEEPALIVE_DAYS 89: due for keep-alive about a day after the grant; 30: not due for two months.
      const run = await startBackoffRun(
        postgres,
        { schemaPrefix: 'backoff_sweep', dbFile: `bs-${trigger}.db` },
        { KEEPALIVE_DAYS: trigger === 'keepalive' ? '89' : '30' },
      );
      const { vault, clock, advance } = run;
      try {
        const { id } = await connectFromEmulator(vault, emulator.apiBase, clock);
        await advance(31 * HOUR_S);
        await control(emulator.url, 'faults', { endpoint: 'token', status: 503, count: 100_000 });
        await fetch(`${emulator.url}/_emulator/stats`, { method: 'DELETE' });
        // The failing run starts: at the sweep (a due connection), or at one token request (its access token expired
        // after an hour; keep-alive not due) — and nobody asks for the token after that.
        if (trigger === 'ondemand') {
          expect(await vault.connections.getFreshToken(id).catch((e: unknown) => e)).toBeInstanceOf(VaultError);
        }

        // 48 hours of 503s: only the sweep `serve` runs every hour.
        for (let hour = 0; hour < 48; hour++) {
          await vault.sweepOnce();
          await advance(HOUR_S);
        }
        const attempts = await requestCount(emulator, 'POST /v1/access_token 503');
        expect(await requestCount(emulator, 'POST /v1/access_token')).toBe(attempts);
        // 3 tries at the first failure, then one at each hourly sweep past the next attempt (30 s, 1 min, 5 min,
        // 15 min, 1 h: the next five sweeps), then every 6 h: 3 + 5 + 7 = 15 at most, 12 at least.
        expect(attempts).toBeGreaterThanOrEqual(12);
        expect(attempts).toBeLessThanOrEqual(15);
        console.info(`48 h of 503s cost one connection ${attempts} token requests, on the sweep's schedule alone`);
        const failing = await vault.connections.get(id);
        expect(failing).toMatchObject({ status: 'active', refreshFailing: true, lastErrorStatus: 503 });
        const failed = (await vault.connections.history(id)).filter((h) => h.outcome === 'failing');
        expect(failed.length).toBe(attempts - 2);
        expect(failed.every((h) => h.status === 503)).toBe(true);
        expect(failed.slice(0, -1).every((h) => h.kind === 'keepalive')).toBe(true); // newest first
        expect(failed.at(-1)?.kind).toBe(trigger);

        // Webex is back: the hourly sweeps retry it at its next attempt, and it recovers by itself.
        await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
        for (let hour = 0; hour < 7 && (await vault.connections.get(id))?.refreshFailing; hour++) {
          await vault.sweepOnce();
          await advance(HOUR_S);
        }
        expect(await vault.connections.get(id)).toMatchObject({ status: 'active', refreshFailing: false });
        expect((await vault.connections.history(id, 1))[0]).toMatchObject({ outcome: 'success', kind: 'keepalive' });
        await expectOneFailingRunEvents(run, id);
      } finally {
        await run.close();
      }
    },
    180_000,
  );
});
