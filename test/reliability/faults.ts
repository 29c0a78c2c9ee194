/**
 * Scenario: a broker process whose Webex (the emulator) fails ~30% of token requests with 500/503/429 + Retry-After
 * and slows another share (for 100 s, then Webex recovers), while `connections` connections are all due for a refresh and their callers keep asking
 * (honouring Retry-After) → every connection gets a fresh, working token, none is wrongly marked `needs_reauth`.
 * Midway every PostgreSQL connection of the broker is cut (what a server restart looks like to a client) or, in the
 * long suite, a private PostgreSQL server is really restarted → the broker recovers without a restart of its own.
 */
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { INTEGRATION, serveEnv, startBroker, tempDir } from '../security/support.js';
import { makeKeys, PLAIN_REDIRECT, seedConnection, tokenWorks } from './connection.js';
import { freshSchema, PG_URL, pgEnv, pgQuery } from './pg.js';

/** How long the emulator keeps failing token requests: beyond the 30 s and 1 min steps of a failing refresh. */
const FAULTS_FOR_MS = 100_000;

/** What the callers saw, for SECURITY.md. */
export interface FaultsResult {
  connections: number;
  refreshed: number;
  needsReauth: number;
  attempts: number;
  statuses: Record<number, number>;
  maxAttemptsOneCaller: number;
}

/** Options of {@link faultsScenario}. */
export interface FaultsOptions {
  connections: number;
  /** Called once half the callers have their token: cut or restart the database. */
  disrupt?: (ctx: { appName: string; url: string }) => Promise<void>;
  /** PostgreSQL URL (default the machine's test database). */
  url?: string;
}

/** Cuts every connection the broker process holds (by its application_name). */
export async function terminateBackends({ appName, url }: { appName: string; url: string }): Promise<void> {
  const rows = await pgQuery<{ ok: boolean }>(
    'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
    [appName],
    url,
  );
  // The broker's pool must have held at least one connection, or nothing was tested.
  expect(rows.filter((r) => r.ok).length).toBeGreaterThan(0);
}

/** Runs the scenario and asserts it. */
export async function faultsScenario(options: FaultsOptions): Promise<FaultsResult> {
  const n = options.connections;
  const url = options.url ?? PG_URL;
  const users = Array.from({ length: n }, (_, i) => ({
    email: `person${i}@example.com`,
    displayName: `Person ${i}`,
    firstName: 'Person',
    lastName: String(i),
  }));
  const emulator = await startEmulator({
    seed: { integrations: [{ ...INTEGRATION, redirectUris: [PLAIN_REDIRECT] }], users, bots: [], rooms: [] },
    logger: false,
  });
  const tmp = tempDir();
  const schema = await freshSchema('sec_faults', url);
  const appName = `webex_auth_faults_${process.pid}`;
  const env = serveEnv(emulator.apiBase, PLAIN_REDIRECT, tmp.dir, {
    LOG_LEVEL: 'warn',
    // A connection whose refresh keeps failing is tried again after 30 s, then every minute (the default schedule
    // goes on to 5 min, which no caller here waits for): with Webex recovered after FAULTS_FOR_MS, every connection has
    // a scheduled attempt before the callers' deadline, whatever its luck with the random faults before.
    REFRESH_RETRY_MAX_INTERVAL: '60',
    REFRESH_MAX_ATTEMPTS_PER_HOUR: '60',
    ...pgEnv(schema.name, url),
    PGAPPNAME: appName,
  });
  const tuning = { retryBaseDelayMs: 50, schema: schema.name };
  const vault = await openVault(loadConfig({ env: { ...env, PGAPPNAME: 'seeder' }, dotenvDir: false }), tuning);
  const broker = await startBroker(env, tuning);
  const result: FaultsResult = {
    connections: n,
    refreshed: 0,
    needsReauth: 0,
    attempts: 0,
    statuses: {},
    maxAttemptsOneCaller: 0,
  };
  let recovered: NodeJS.Timeout | undefined;
  try {
    const ids: string[] = [];
    for (const u of users)
      ids.push((await seedConnection(vault, emulator.apiBase, { expired: true, email: u.email })).id);
    const keys = await makeKeys(vault, ids, Math.ceil(n / 10));
    for (const rule of [
      { endpoint: 'token', status: 503, retryAfter: 1, rate: 0.12 },
      { endpoint: 'token', status: 429, retryAfter: 1, rate: 0.12 },
      { endpoint: 'token', status: 500, rate: 0.12 },
      { endpoint: 'token', delayMs: 400, rate: 0.2 },
    ]) {
      const res = await fetch(`${emulator.url}/_emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(rule),
      });
      expect(res.status).toBeLessThan(300);
    }
    // Webex recovers after FAULTS_FOR_MS. With ~36 % of token calls failing for good, a connection's first refresh
    // (3 tries) and then each scheduled attempt can keep failing: left on for the whole run, the faults failed the
    // scenario about once in 15 runs (one connection unlucky three times in a row) — not a property of the broker.
    recovered = setTimeout(() => {
      fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' }).catch(() => {});
    }, FAULTS_FOR_MS);
    let done = 0;
    let disrupted: Promise<void> | undefined;
    const tokens = await Promise.all(
      ids.map(async (id, i) => {
        // Callers honour Retry-After in full: a connection whose refresh keeps failing backs off (30 s, then 1 min…),
        // and the broker says so rather than asking Webex again. The budget covers two back-off steps.
        const deadline = Date.now() + 180_000;
        for (let attempt = 1; Date.now() < deadline; attempt++) {
          result.attempts++;
          result.maxAttemptsOneCaller = Math.max(result.maxAttemptsOneCaller, attempt);
          const res = await fetch(`${broker.url}/api/v1/connections/${id}/token`, {
            headers: { authorization: `Bearer ${keys[i % keys.length]}` },
          });
          result.statuses[res.status] = (result.statuses[res.status] ?? 0) + 1;
          const body = (await res.json()) as { access_token?: string };
          if (res.status === 200) {
            if (++done === Math.ceil(n / 2) && options.disrupt) disrupted = options.disrupt({ appName, url });
            return body.access_token;
          }
          // A caller that honours Retry-After (the broker's 503 carries it).
          const wait = Number(res.headers.get('retry-after') ?? '1');
          await new Promise((r) => setTimeout(r, Math.min(Math.max(wait, 0.2), 120) * 1000));
        }
        return undefined;
      }),
    );
    await disrupted;
    await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
    for (const t of tokens) if (t && (await tokenWorks(emulator.apiBase, t))) result.refreshed++;
    // After the disruption the same process still serves: one more round of token requests, all 200.
    const after = await Promise.all(
      ids.map((id, i) =>
        fetch(`${broker.url}/api/v1/connections/${id}/token`, {
          headers: { authorization: `Bearer ${keys[i % keys.length]}` },
        }).then((r) => r.status),
      ),
    );
    result.needsReauth = (await vault.connections.list()).filter((c) => c.status === 'needs_reauth').length;
    expect(result.refreshed).toBe(n);
    expect(result.needsReauth).toBe(0);
    expect(after).toEqual(Array(n).fill(200));
    // The broker never answers 500 for an upstream or database hiccup; only 200 or 503 + Retry-After.
    expect(Object.keys(result.statuses).filter((s) => s !== '200' && s !== '503')).toEqual([]);
    return result;
  } finally {
    clearTimeout(recovered);
    if (process.env.DEBUG_BROKER) process.stderr.write(broker.output());
    await broker.stop();
    await vault.close();
    await emulator.close();
    await schema.drop();
    tmp.cleanup();
  }
}
