/**
 * Scenario: the webhook receiver is down (connection refused) when `events` connections are refreshed by a broker
 * process, then comes up answering 503 to its first deliveries → every `connection.refreshed` event still arrives,
 * signed, within the retry budget (5 attempts, backoff from 200 ms here; 500 ms in production).
 */
import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { freePort, INTEGRATION, serveEnv, startBroker, tempDir } from '../security/support.js';
import { makeKeys, PLAIN_REDIRECT, seedConnection } from './connection.js';

const SECRET = 'webhook-secret-for-the-reliability-test';

/** What the receiver saw. */
export interface WebhookResult {
  events: number;
  delivered: number;
  answered503: number;
  badSignatures: number;
}

/** Runs the scenario and asserts it. */
export async function webhookScenario(events: number): Promise<WebhookResult> {
  const users = Array.from({ length: events }, (_, i) => ({
    email: `hook${i}@example.com`,
    displayName: `Hook ${i}`,
    firstName: 'Hook',
    lastName: String(i),
  }));
  const emulator = await startEmulator({
    seed: { integrations: [{ ...INTEGRATION, redirectUris: [PLAIN_REDIRECT] }], users, bots: [], rooms: [] },
    logger: false,
  });
  const tmp = tempDir();
  const hookPort = await freePort();
  const env = serveEnv(emulator.apiBase, PLAIN_REDIRECT, tmp.dir, {
    LOG_LEVEL: 'warn',
    WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
    WEBHOOK_SECRET: SECRET,
  });
  const vault = await openVault(loadConfig({ env: { ...env, WEBHOOK_URL: '' }, dotenvDir: false }));
  const broker = await startBroker(env, { webhookBaseDelayMs: 200 });
  const result: WebhookResult = { events, delivered: 0, answered503: 0, badSignatures: 0 };
  let server: Server | undefined;
  try {
    const ids: string[] = [];
    for (const u of users) ids.push((await seedConnection(vault, emulator.apiBase, { email: u.email })).id);
    const [key] = await makeKeys(vault, ids, 1);
    // Receiver down: every refresh fires a webhook whose first attempt is refused.
    const statuses = await Promise.all(
      ids.map((id) =>
        fetch(`${broker.url}/api/v1/connections/${id}/refresh`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}` },
        }).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array(events).fill(200));
    const seen = new Set<string>();
    let allArrived: () => void = () => {};
    const arrived = new Promise<void>((ok) => {
      allArrived = ok;
    });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        // The receiver's first `events` answers are 503: each event needs at least one more retry.
        if (result.answered503 < events) {
          result.answered503++;
          res.writeHead(503).end();
          return;
        }
        let event: { type: string; data: { connectionId: string } } | undefined;
        try {
          // Standard Webhooks: the plain WEBHOOK_SECRET is the key's bytes.
          event = new Webhook(SECRET, { format: 'raw' }).verify(body, req.headers as Record<string, string>) as never;
        } catch {
          result.badSignatures++;
        }
        if (event?.type === 'connection.refreshed') seen.add(event.data.connectionId);
        res.writeHead(204).end();
        result.delivered = seen.size;
        if (seen.size === events) allArrived();
      });
    });
    await new Promise<void>((ok) => server?.listen(hookPort, '127.0.0.1', ok));
    await arrived;
    expect(result.delivered).toBe(events);
    expect(result.badSignatures).toBe(0);
    expect([...seen].sort()).toEqual([...ids].sort());
    return result;
  } finally {
    await broker.stop();
    await vault.close();
    await emulator.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    tmp.cleanup();
  }
}
