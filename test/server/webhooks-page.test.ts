/**
 * The webhooks page `/webhooks` through app.inject(): a team-mode server on the real emulator and a real SQLite
 * vault, members alice and erin and admin carol signed in with Webex, and a real receiver on loopback
 * (ALLOW_PRIVATE_WEBHOOKS=true). A member adds an endpoint (its secret shown once), receives her events verifiable
 * with `standardwebhooks`, sees the delivery log and redelivers (same webhook-id); another member can neither see,
 * delete nor redeliver it (the same 404 as an unknown id, and nothing changes); an admin sees it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultInternals } from '../../src/vault/vault.js';
import { ADMIN_TOKEN, connect, type RunningEmulator, signIn, startTeamEmulator, teamEnv } from '../accounts/support.js';
import { Browser, testAppWithVault } from './support/app.js';

interface Hit {
  path: string;
  body: string;
  headers: Record<string, string>;
}

/** The secret shown on an "Endpoint added" page. */
const shownSecret = (body: string) => /id="new-secret" data-value="(whsec_[A-Za-z0-9+/=]+)"/.exec(body)?.[1];
const webhookIds = (body: string) => [...body.matchAll(/data-webhook-id="([^"]+)"/g)].map((m) => m[1]);
const deliveryIds = (body: string) => [...body.matchAll(/data-delivery-id="([^"]+)"/g)].map((m) => m[1]);

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the webhooks page in team mode', () => {
  let emulator: RunningEmulator;
  let app: FastifyInstance;
  let vault: VaultInternals;
  let server: Server;
  let base: string;
  const hits: Hit[] = [];
  /** What alice's endpoint received of her key.created event. */
  const keyHits = () => hits.filter((h) => h.path === '/alice' && h.body.includes('"key.created"'));
  let alice: Browser;
  let erin: Browser;
  let carol: Browser;
  let aliceConnection: string;
  let aliceSecret: string;
  let aliceEndpoint: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hits.push({
          path: req.url ?? '',
          body,
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    emulator = await startTeamEmulator();
    const t = await testAppWithVault(teamEnv(emulator, { ADMIN_TOKEN, ALLOW_PRIVATE_WEBHOOKS: 'true' }));
    app = t.app;
    vault = t.vault;
    alice = new Browser(app);
    erin = new Browser(app);
    carol = new Browser(app);
    await signIn(alice, 'alice@example.com');
    await signIn(erin, 'erin@example.com');
    await signIn(carol, 'carol@example.com');
    aliceConnection = await connect(alice, 'alice@example.com');
    await connect(erin, 'erin@example.com');
  });
  afterAll(async () => {
    await app?.close();
    await emulator?.close();
    await new Promise((r) => server?.close(r));
  });

  it('the header links the page; a member adds an endpoint and sees its secret once', async () => {
    const pageBefore = await alice.get('/webhooks');
    expect(pageBefore.statusCode).toBe(200);
    expect(pageBefore.body).toContain('href="/webhooks"');
    expect(pageBefore.body).toContain('id="no-webhooks"');
    const made = await alice.post('/webhooks', { url: `${base}/alice`, connection: '', description: 'ops' });
    expect(made.statusCode, made.body.slice(0, 500)).toBe(201);
    aliceSecret = shownSecret(made.body) as string;
    expect(aliceSecret).toMatch(/^whsec_/);
    expect(made.headers['cache-control']).toContain('no-store');
    expect(made.headers.location).toBeUndefined();
    expect(alice.cookie).not.toContain(aliceSecret.slice(6, 30));
    const page = await alice.get('/webhooks');
    [aliceEndpoint] = webhookIds(page.body) as [string];
    expect(aliceEndpoint).toMatch(/^whe_/);
    expect(page.body).not.toContain(aliceSecret.slice(6));
    const audit = await vault.audit.list({ action: 'webhook.create' });
    expect(audit[0]).toMatchObject({ target: aliceEndpoint, actor: { kind: 'account', label: 'alice@example.com' } });
  });

  it('her events arrive verifiable; the log shows them and Redeliver keeps the webhook-id', async () => {
    await alice.get('/keys');
    const key = await alice.post('/keys', { name: 'bot', connection: aliceConnection, permission: 'token' });
    expect(key.statusCode).toBe(201);
    await until(() => keyHits().length > 0, 'the key.created delivery');
    const first = keyHits()[0] as Hit;
    expect(new Webhook(aliceSecret).verify(first.body, first.headers)).toMatchObject({ type: 'key.created' });
    await until(async () => (await vault.webhooks.deliveries(aliceEndpoint))[0]?.lastStatus === 204, 'the log');
    const page = await alice.get('/webhooks');
    const [delivery] = deliveryIds(page.body) as [string];
    expect(page.body).toContain('key.created');
    const again = await alice.post(`/webhooks/deliveries/${delivery}/redeliver`, {});
    expect(again.statusCode).toBe(303);
    await until(() => keyHits().length === 2, 'the redelivery');
    const [a, b] = keyHits() as [Hit, Hit];
    expect(b.headers['webhook-id']).toBe(a.headers['webhook-id']);
    expect(new Webhook(aliceSecret).verify(b.body, b.headers)).toEqual(
      new Webhook(aliceSecret).verify(a.body, a.headers),
    );
    expect((await vault.audit.list({ action: 'webhook.redeliver' }))[0]).toMatchObject({ target: aliceEndpoint });
  });

  it('redeliveries are rate-limited per member: a burst, then 429 with Retry-After and nothing sent', async () => {
    const page = await alice.get('/webhooks');
    const [delivery] = deliveryIds(page.body) as [string];
    let refused: Awaited<ReturnType<Browser['post']>> | undefined;
    let sent = 0;
    for (let i = 0; i < 20 && !refused; i++) {
      await alice.get('/webhooks');
      const res = await alice.post(`/webhooks/deliveries/${delivery}/redeliver`, {});
      if (res.statusCode === 303) sent++;
      else refused = res;
    }
    // The earlier test used one of the burst of 10.
    expect(sent).toBeLessThanOrEqual(10);
    expect(refused?.statusCode).toBe(429);
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);
    const audits = (await vault.audit.list({ action: 'webhook.redeliver' })).length;
    const again = await alice.post(`/webhooks/deliveries/${delivery}/redeliver`, {});
    expect(again.statusCode).toBe(429);
    expect((await vault.audit.list({ action: 'webhook.redeliver' })).length).toBe(audits);
    // Another member's allowance is her own.
    expect((await erin.get('/webhooks')).statusCode).toBe(200);
  });

  it('another member can neither see, delete nor redeliver it; an admin sees it', async () => {
    const seen = await erin.get('/webhooks');
    expect(webhookIds(seen.body)).toEqual([]);
    expect(seen.body).not.toContain(`${base}/alice`);
    const del = await erin.post(`/webhooks/${aliceEndpoint}/delete`, {});
    expect(del.statusCode).toBe(404);
    const [delivery] = await vault.webhooks.deliveries(aliceEndpoint);
    const before = hits.length;
    const re = await erin.post(`/webhooks/deliveries/${delivery?.id}/redeliver`, {});
    expect(re.statusCode).toBe(404);
    // Her connection is not a scope erin may pick either.
    const scoped = await erin.post('/webhooks', { url: `${base}/erin`, connection: aliceConnection });
    expect(scoped.statusCode).toBe(404);
    expect(await vault.webhooks.list()).toHaveLength(1);
    expect(await vault.webhooks.get(aliceEndpoint)).toBeDefined();
    expect(hits.length).toBe(before);
    const admin = await carol.get('/webhooks');
    expect(webhookIds(admin.body)).toEqual([aliceEndpoint]);
    expect(admin.body).toContain('alice@example.com');
  });

  it('an admin sees another member’s endpoint URL without its query; the owner sees it in full', async () => {
    const url = `${base}/alice-token?token=receiver-secret-42&x=1`;
    const made = await alice.post('/webhooks', { url, connection: '', description: 'with a token' });
    expect(made.statusCode, made.body.slice(0, 500)).toBe(201);
    const id = (await vault.webhooks.list()).find((e) => e.url.includes('alice-token'))?.id as string;
    try {
      const own = await alice.get('/webhooks');
      expect(own.body).toContain('receiver-secret-42');
      expect(own.body).toContain(`${base}/alice-token?token=`);
      const admin = await carol.get('/webhooks');
      expect(webhookIds(admin.body)).toContain(id);
      expect(admin.body).toContain(`<code>${base}/alice-token</code>`);
      expect(admin.body).not.toContain('receiver-secret-42');
      expect(admin.body).not.toContain('x=1');
    } finally {
      expect((await alice.post(`/webhooks/${id}/delete`, {})).statusCode).toBe(303);
    }
  });

  it('bad input is a 400 page with a message, a missing CSRF token a refusal', async () => {
    await alice.get('/webhooks');
    const bad = await alice.post('/webhooks', { url: 'not a url' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('id="webhook-error"');
    expect(bad.body).toContain('The webhook URL is not a URL.');
    const creds = await alice.post('/webhooks', { url: 'https://user:pw@hooks.example.com/' });
    expect(creds.statusCode).toBe(400);
    expect(creds.body).not.toContain('user:pw');
    const forms: Record<string, string | string[]>[] = [
      { url: `${base}/${'a'.repeat(2001)}` },
      { url: `${base}/x`, description: 'a\u0007b' },
      { url: `${base}/x`, connection: ['a', 'b'] },
      { url: `${base}/x`, connection: '../x' },
      { url: 'javascript:alert(1)' },
    ];
    for (const form of forms) {
      const res = await alice.post('/webhooks', form);
      expect(res.statusCode, JSON.stringify(form).slice(0, 80)).toBe(400);
      expect(res.body).toContain('id="webhook-error"');
    }
    const noCsrf = await alice.post('/webhooks', { url: `${base}/x` }, false);
    expect(noCsrf.statusCode).toBe(403);
    const badId = await alice.post('/webhooks/..%2F/delete', {});
    expect(badId.statusCode).toBe(404);
    expect(await vault.webhooks.list()).toHaveLength(1);
  });

  it('the owner deletes it, audited; it receives nothing more', async () => {
    const del = await alice.post(`/webhooks/${aliceEndpoint}/delete`, {});
    expect(del.statusCode).toBe(303);
    expect(await vault.webhooks.get(aliceEndpoint)).toBeUndefined();
    expect((await vault.audit.list({ action: 'webhook.delete' }))[0]).toMatchObject({ target: aliceEndpoint });
  });
});
