/**
 * Lifecycle events in the Standard Webhooks format, end to end: a real receiver (node:http on loopback) verifies every
 * event the vault sends — to the operator's WEBHOOK_URL, an account endpoint and a connection endpoint — with
 * `new Webhook(secret).verify(body, headers)` from `standardwebhooks`; a redelivery carries the same `webhook-id`; a
 * tampered body fails; members' endpoints refuse private targets at creation and at delivery (a public-looking name
 * that resolves to 127.0.0.1); the secret is shown once and stored encrypted; the delivery log is bounded.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../src/oauth/types.js';
import { openVault, type VaultInternals, webhookSecretOf } from '../../src/vault/index.js';
import type { WebhookLookup } from '../../src/vault/webhook-address.js';
import { createWebhookSender } from '../../src/vault/webhooks.js';
import {
  dropSchema,
  freshSchema,
  PG_URL,
  postgresAvailable,
  TEST_INTEGRATION,
  TEST_KEY,
  TEST_KEY_2,
  tempDir,
  testConfig,
  tokenSet,
} from './helpers.js';

const pgUp = await postgresAvailable();

interface Hit {
  path: string;
  body: string;
  headers: Record<string, string>;
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A loopback receiver recording every POST by path; answers 204 unless `status` says otherwise. */
async function receiver(status: (hit: Hit) => number = () => 204) {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers as IncomingHttpHeaders).map(([k, v]) => [k, String(v)]),
      );
      const hit = { path: req.url ?? '', body, headers };
      hits.push(hit);
      res.writeHead(status(hit)).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, port, hits };
}

/** Polls until `check` holds (a generous overall cap; no time limit on the work itself). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A resolver: names in `map` to those addresses, anything else unresolvable. */
const lookupOf =
  (map: Record<string, string>): WebhookLookup =>
  async (host) => {
    const address = map[host];
    if (!address) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };

const OPERATOR_SECRET = 'operator-secret-0123456789';

/** A fetch for the operator's URL that does not exist: the vault calls no Webex in these tests. */
const globalFetch: FetchLike = (input, init) => globalThis.fetch(input, init);

describe('lifecycle webhooks (Standard Webhooks)', () => {
  let vault: VaultInternals;
  let cleanup: () => void;
  let dir: string;
  let rx: Awaited<ReturnType<typeof receiver>>;
  let integrationId: string;

  beforeAll(async () => {
    rx = await receiver();
    const t = tempDir();
    dir = t.dir;
    cleanup = t.cleanup;
    vault = await openVault(
      testConfig({
        WEBEX_AUTH_DB: join(dir, 'vault.db'),
        WEBEX_AUTH_KEYS: TEST_KEY,
        WEBHOOK_URL: `${rx.base}/operator`,
        WEBHOOK_SECRET: OPERATOR_SECRET,
        ALLOW_PRIVATE_WEBHOOKS: 'true',
      }),
      { fetch: globalFetch, webhookBaseDelayMs: 1, webhookLookup: lookupOf({ 'hooks.example.test': '127.0.0.1' }) },
    );
    integrationId = (await vault.integrations.upsert(TEST_INTEGRATION)).id;
  });
  afterAll(async () => {
    await vault?.close();
    cleanup?.();
  });
  afterEach(async () => {
    await vault.drainWebhooks();
  });

  const grant = (ownerId: string, person: string) =>
    vault.connections.saveFromGrant({
      ownerId,
      integrationId,
      tokens: tokenSet({ accessToken: `ACCESS-${person}`, refreshToken: `REFRESH-${person}` }),
      person: { id: person, emails: [`${person}@example.com`], displayName: person },
      requestedScopes: ['spark:all'],
    });

  it('every event reaches the operator, the account and the connection endpoints, each verifiable', async () => {
    const account = await vault.webhooks.create({ ownerId: 'acc_a', url: `${rx.base}/account` });
    const first = await grant('acc_a', 'alice');
    // Events are resolved to endpoints in the background: let connection.created find its endpoints first.
    await vault.drainWebhooks();
    const single = await vault.webhooks.create({
      ownerId: 'acc_a',
      url: `http://hooks.example.test:${rx.port}/connection`,
      connectionId: first.id,
    });
    await grant('acc_a', 'alice'); // connection.refreshed
    await vault.connections.markNeedsReauth(first.id); // connection.needs_reauth
    const key = await vault.apiKeys.create({ name: 'bot', connectionIds: [first.id], ownerId: 'acc_a' });
    await vault.apiKeys.revoke(key.record.id);
    await vault.drainWebhooks();
    await vault.connections.delete(first.id); // connection.deleted
    await vault.drainWebhooks();

    const verify = (path: string, secret: string) =>
      rx.hits
        .filter((h) => h.path === path)
        .map((h) => new Webhook(secret).verify(h.body, h.headers) as { type: string; data: Record<string, unknown> });
    const operator = verify('/operator', webhookSecretOf(OPERATOR_SECRET));
    const types = [
      'connection.created',
      'connection.refreshed',
      'connection.needs_reauth',
      'key.created',
      'key.revoked',
      'connection.deleted',
    ];
    // Deliveries run concurrently: their order of arrival is not the events' order.
    const sorted = (events: Array<{ type: string }>) => events.map((e) => e.type).sort();
    expect(sorted(operator)).toEqual([...types].sort());
    expect(sorted(verify('/account', account.secret))).toEqual([...types].sort());
    // The connection endpoint (made after the connection) gets that connection's later events, not key events.
    expect(sorted(verify('/connection', single.secret))).toEqual(
      ['connection.refreshed', 'connection.needs_reauth', 'connection.deleted'].sort(),
    );
    const created = operator.find((e) => e.type === 'connection.created');
    expect(created?.data).toEqual({
      connectionId: first.id,
      ...(created?.data.kind ? { kind: created.data.kind } : {}),
    });
    expect(operator.find((e) => e.type === 'key.created')?.data).toEqual({ keyId: key.record.id });
    // Never a token, a secret or an email in any body.
    for (const h of rx.hits) {
      expect(h.body).not.toMatch(/ACCESS-|REFRESH-|SECRET|@example\.com|whsec_|wak_/);
      expect(h.headers['webex-auth-signature']).toBeUndefined();
    }
    // An endpoint's secret does not verify another endpoint's deliveries.
    const accountHit = rx.hits.find((h) => h.path === '/account') as Hit;
    expect(() => new Webhook(single.secret).verify(accountHit.body, accountHit.headers)).toThrow();
    // The deleted connection's endpoint went with it.
    expect(await vault.webhooks.get(single.endpoint.id)).toBeUndefined();
  });

  it('a redelivery has the same webhook-id and body, a new signature; a tampered body fails', async () => {
    const made = await vault.webhooks.create({ ownerId: 'acc_r', url: `${rx.base}/redeliver` });
    await grant('acc_r', 'rita');
    await vault.drainWebhooks();
    const original = rx.hits.filter((h) => h.path === '/redeliver');
    expect(original).toHaveLength(1);
    const [logged] = await vault.webhooks.deliveries(made.endpoint.id);
    expect(logged).toMatchObject({ type: 'connection.created', attempts: 1, lastStatus: 204 });
    expect(logged?.deliveredAt).toBeTypeOf('number');
    // Wait for the next second, so the redelivery's timestamp (and so its signature) differs.
    const second = Math.floor(Date.now() / 1000);
    await until(() => Math.floor(Date.now() / 1000) > second, 'the next second');
    const again = await vault.webhooks.redeliver(logged?.id as string);
    expect(again?.eventId).toBe(logged?.eventId);
    await vault.drainWebhooks();
    const hits = rx.hits.filter((h) => h.path === '/redeliver');
    expect(hits).toHaveLength(2);
    const [a, b] = hits as [Hit, Hit];
    expect(b.headers['webhook-id']).toBe(a.headers['webhook-id']);
    expect(b.body).toBe(a.body);
    expect(b.headers['webhook-timestamp']).not.toBe(a.headers['webhook-timestamp']);
    expect(b.headers['webhook-signature']).not.toBe(a.headers['webhook-signature']);
    const hook = new Webhook(made.secret);
    expect(hook.verify(b.body, b.headers)).toMatchObject({ type: 'connection.created' });
    expect(() => hook.verify(b.body.replace('connection.created', 'connection.deleted'), b.headers)).toThrow();
    expect(() => hook.verify(b.body, { ...b.headers, 'webhook-id': 'msg_other' })).toThrow();
    expect((await vault.webhooks.deliveries(made.endpoint.id)).map((d) => d.eventId)).toEqual([
      a.headers['webhook-id'],
      a.headers['webhook-id'],
    ]);
  });

  it('shows the secret once and stores it encrypted', async () => {
    const made = await vault.webhooks.create({ ownerId: 'acc_s', url: `${rx.base}/secret`, description: 'ops' });
    expect(made.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(JSON.stringify(await vault.webhooks.list('acc_s'))).not.toContain(made.secret.slice(6));
    expect(JSON.stringify(await vault.webhooks.get(made.endpoint.id))).not.toContain(made.secret.slice(6));
    const db = new Database(join(dir, 'vault.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM webhook_endpoints WHERE id = ?').get(made.endpoint.id) as Record<
        string,
        string
      >;
      expect(row.secret_enc).toMatch(/^v1:/);
      expect(JSON.stringify(row)).not.toContain(made.secret.slice(6));
      expect(JSON.stringify(row)).not.toContain(made.secret.slice(6, 20));
    } finally {
      db.close();
    }
  });

  it('keeps the last 100 deliveries per endpoint', async () => {
    const made = await vault.webhooks.create({ ownerId: 'acc_l', url: `${rx.base}/log` });
    const c = await grant('acc_l', 'lena');
    expect(c.ownerId).toBe('acc_l');
    // One connection.created, then 104 connection.refreshed.
    for (let i = 0; i < 104; i++) await grant('acc_l', 'lena');
    await vault.drainWebhooks();
    await until(async () => rx.hits.filter((h) => h.path === '/log').length >= 105, 'every delivery');
    const log = await vault.webhooks.deliveries(made.endpoint.id, 1000);
    expect(log).toHaveLength(100);
    expect(log.every((d) => d.lastStatus === 204)).toBe(true);
  });
});

describe('members’ endpoints refuse private targets without ALLOW_PRIVATE_WEBHOOKS', () => {
  let vault: VaultInternals;
  let cleanup: () => void;
  let rx: Awaited<ReturnType<typeof receiver>>;
  const names: Record<string, string> = {
    'public.example.test': '93.184.216.34',
    'inside.example.test': '10.1.2.3',
    'rebind.example.test': '93.184.216.34',
  };

  beforeAll(async () => {
    rx = await receiver();
    const t = tempDir();
    cleanup = t.cleanup;
    vault = await openVault(testConfig({ WEBEX_AUTH_DB: join(t.dir, 'vault.db'), WEBEX_AUTH_KEYS: TEST_KEY }), {
      webhookBaseDelayMs: 1,
      webhookLookup: async (host) => lookupOf(names)(host),
    });
  });
  afterAll(async () => {
    await vault?.close();
    cleanup?.();
  });

  it.each([
    'http://127.0.0.1/hook',
    'http://localhost/hook',
    'http://[::1]/hook',
    'http://169.254.169.254/latest',
    'http://10.0.0.5/',
    'http://172.20.1.1/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://224.0.0.1/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::127.0.0.1]/',
    'http://[2002:7f00:1::]/',
    'http://[2002:a9fe:a9fe::1]/',
    'http://[64:ff9b:1::7f00:1]/',
    'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://[0:0:0:0:0:ffff:7f00:1]/',
    'http://inside.example.test/',
    'http://unknown.example.test/',
  ])('refuses %s at creation', async (url) => {
    await expect(vault.webhooks.create({ ownerId: 'acc_p', url })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('refuses URLs with credentials or another scheme', async () => {
    for (const url of [
      'https://u:p@public.example.test/',
      'ftp://public.example.test/',
      'not a url',
      'https://public.example.test/#x',
    ]) {
      await expect(vault.webhooks.create({ ownerId: 'acc_p', url })).rejects.toMatchObject({ code: 'invalid_request' });
    }
    expect(await vault.webhooks.list('acc_p')).toEqual([]);
  });

  it('refuses at delivery a name that now resolves to loopback (DNS rebinding): nothing reaches the receiver', async () => {
    const made = await vault.webhooks.create({ ownerId: 'acc_p', url: `http://rebind.example.test:${rx.port}/rebind` });
    names['rebind.example.test'] = '127.0.0.1';
    await vault.integrations.upsert({
      ownerId: 'acc_p',
      clientId: 'C2',
      clientSecret: 'SECRET',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: [],
      apiBase: 'https://webex.test/v1',
    });
    const integ = (await vault.integrations.list('acc_p'))[0];
    await vault.connections.saveFromGrant({
      ownerId: 'acc_p',
      integrationId: integ?.id as string,
      tokens: tokenSet({ accessToken: 'A', refreshToken: 'R' }),
      person: { id: 'pat', emails: ['pat@example.com'], displayName: 'Pat' },
      requestedScopes: [],
    });
    await vault.drainWebhooks();
    const [logged] = await vault.webhooks.deliveries(made.endpoint.id);
    expect(logged).toMatchObject({ type: 'connection.created', lastError: 'refused_address', attempts: 1 });
    expect(logged?.deliveredAt).toBeUndefined();
    expect(rx.hits).toEqual([]);
  });

  it('the same look-up reaches a loopback receiver when private targets are allowed (the guard, not the resolver, refused)', async () => {
    const t = tempDir();
    const open = await openVault(
      testConfig({ WEBEX_AUTH_DB: join(t.dir, 'vault.db'), WEBEX_AUTH_KEYS: TEST_KEY, ALLOW_PRIVATE_WEBHOOKS: 'true' }),
      { webhookBaseDelayMs: 1, webhookLookup: lookupOf({ 'rebind.example.test': '127.0.0.1' }) },
    );
    try {
      const made = await open.webhooks.create({
        ownerId: 'acc_q',
        url: `http://rebind.example.test:${rx.port}/allowed`,
      });
      const key = await open.apiKeys.create({ name: 'k', connectionIds: [], ownerId: 'acc_q' });
      await open.drainWebhooks();
      const hit = rx.hits.find((h) => h.path === '/allowed') as Hit;
      expect(new Webhook(made.secret).verify(hit.body, hit.headers)).toMatchObject({
        type: 'key.created',
        data: { keyId: key.record.id },
      });
    } finally {
      await open.close();
      t.cleanup();
    }
  });
});

describe('key rotation', () => {
  it('re-encrypts endpoint secrets under the new key: the endpoint still delivers after the old key is gone', async () => {
    const rx = await receiver();
    const t = tempDir();
    const env = { WEBEX_AUTH_DB: join(t.dir, 'vault.db'), ALLOW_PRIVATE_WEBHOOKS: 'true' };
    const first = await openVault(testConfig({ ...env, WEBEX_AUTH_KEYS: TEST_KEY }));
    const made = await first.webhooks.create({ ownerId: 'acc_k', url: `${rx.base}/rotated` });
    await first.close();
    const both = await openVault(testConfig({ ...env, WEBEX_AUTH_KEYS: `${TEST_KEY_2},${TEST_KEY}` }));
    const progress = await both.rotateKeys();
    expect(progress).toEqual({ done: 1, total: 1 });
    await both.close();
    const second = await openVault(testConfig({ ...env, WEBEX_AUTH_KEYS: TEST_KEY_2 }));
    try {
      const key = await second.apiKeys.create({ name: 'k', connectionIds: [], ownerId: 'acc_k' });
      await second.drainWebhooks();
      const hit = rx.hits.find((h) => h.path === '/rotated') as Hit;
      expect(new Webhook(made.secret).verify(hit.body, hit.headers)).toMatchObject({ data: { keyId: key.record.id } });
    } finally {
      await second.close();
      t.cleanup();
    }
  });
});

describe('https on a team server', () => {
  it('refuses plain http for members’ endpoints in team mode, takes https to a public address', async () => {
    const t = tempDir();
    const vault = await openVault(
      testConfig({ WEBEX_AUTH_DB: join(t.dir, 'vault.db'), WEBEX_AUTH_KEYS: TEST_KEY, WEBEX_AUTH_MODE: 'team' }),
      { webhookLookup: lookupOf({ 'public.example.test': '93.184.216.34' }) },
    );
    try {
      await expect(vault.webhooks.create({ ownerId: 'acc_t', url: 'http://public.example.test/in' })).rejects.toThrow(
        /must be https/,
      );
      const made = await vault.webhooks.create({ ownerId: 'acc_t', url: 'https://public.example.test/in' });
      expect(made.endpoint).toMatchObject({ ownerId: 'acc_t', url: 'https://public.example.test/in' });
    } finally {
      await vault.close();
      t.cleanup();
    }
  });
});

describe('event types other parts of the broker send', () => {
  it('refresh_failing, recovered, revoked and deauthorized carry their extra facts and verify', async () => {
    const rx = await receiver();
    const secret = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
    const sender = createWebhookSender({ url: `${rx.base}/x`, secret });
    sender.send('connection.refresh_failing', 'conn_f', 0, {
      nextAttemptAt: '1970-01-01T01:00:00.000Z',
      error: 'upstream_unavailable',
    });
    sender.send('connection.recovered', 'conn_f', 1000);
    sender.send('connection.revoked', 'conn_f', 2000, { reason: 'revoked_at_webex' });
    sender.send('connection.deauthorized', 'conn_f', 3000, { orgId: null });
    await sender.drain();
    await sender.close();
    const events = rx.hits.map((h) => new Webhook(secret).verify(h.body, h.headers) as { type: string; data: unknown });
    expect(events.map((e) => e.type).sort()).toEqual([
      'connection.deauthorized',
      'connection.recovered',
      'connection.refresh_failing',
      'connection.revoked',
    ]);
    expect(events.find((e) => e.type === 'connection.revoked')?.data).toEqual({
      connectionId: 'conn_f',
      reason: 'revoked_at_webex',
    });
    expect(new Set(rx.hits.map((h) => h.headers['webhook-id'])).size).toBe(4);
  });
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(kind === 'postgres' && !pgUp)(`endpoints written by another instance (${kind})`, () => {
    it('an endpoint another instance adds gets the next event here, and one it deletes none', async () => {
      const rx = await receiver();
      const t = tempDir();
      const schema = kind === 'postgres' ? freshSchema('hooks_two') : undefined;
      const config = testConfig({
        ...(kind === 'sqlite' ? { WEBEX_AUTH_DB: join(t.dir, 'vault.db') } : { DATABASE_URL: PG_URL }),
        WEBEX_AUTH_KEYS: TEST_KEY,
        ALLOW_PRIVATE_WEBHOOKS: 'true',
      });
      const options = { webhookBaseDelayMs: 1, ...(schema ? { schema } : {}) };
      const a = await openVault(config, options);
      const b = await openVault(config, options);
      try {
        const keyEvent = async () => {
          await a.apiKeys.create({ name: 'k', connectionIds: [], ownerId: 'acc_two' });
          await a.drainWebhooks();
        };
        /** Runs `write` in B, then lets A see it: SQLite reads another process's commit at its next event-loop turn,
         * PostgreSQL once the notification arrives; either way A's stamp moves (or the test times out). */
        const inB = async (write: () => Promise<unknown>) => {
          const stamp = a.store.changeStamp?.('webhookEndpoints');
          await write();
          await until(() => a.store.changeStamp?.('webhookEndpoints') !== stamp, 'the stamp to move');
        };
        await keyEvent(); // no endpoint yet: A holds that answer
        let made: Awaited<ReturnType<typeof b.webhooks.create>> | undefined;
        await inB(async () => {
          made = await b.webhooks.create({ ownerId: 'acc_two', url: `${rx.base}/two` });
        });
        await keyEvent();
        expect(rx.hits.filter((h) => h.path === '/two')).toHaveLength(1);
        await inB(async () => expect(await b.webhooks.remove(made?.endpoint.id ?? '')).toBe(true));
        await keyEvent();
        expect(rx.hits.filter((h) => h.path === '/two')).toHaveLength(1);
      } finally {
        await a.close();
        await b.close();
        if (schema) await dropSchema(schema);
        t.cleanup();
      }
    });
  });
}
