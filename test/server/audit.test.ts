/**
 * The audit log through the server: team mode on the real emulator (test/accounts/support.ts) and a real SQLite
 * vault, through app.inject() behind TRUST_PROXY so that each browser has its own client address. Sign-in (and a
 * refused one), connect, re-authorize, configure, delete, sign-out each leave one entry with the right actor, owner
 * and address; `/audit` shows a member their own entries only and an admin every entry, and escapes what Webex says
 * a person is called. Local mode: the admin unlock and a script's admin token.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import type { AuditEntry, VaultInternals } from '../../src/vault/index.js';
import { ADMIN_TOKEN, connect, ORG_A, signIn, TEAM_SEED, teamEnv } from '../accounts/support.js';
import { Browser, testAppWithVault } from './support/app.js';

/** A display name Webex returns for a person: markup, a terminal escape and a bidi override. */
const HOSTILE = '<img src=x onerror=alert(1)>\u001b[31mMallory\u202e';

let emulator: RunningEmulator;
beforeAll(async () => {
  const seed = {
    ...TEAM_SEED,
    users: [
      ...TEAM_SEED.users,
      { email: 'mallory@example.com', displayName: HOSTILE, firstName: 'Mallory', lastName: 'M', orgId: ORG_A },
    ],
  };
  emulator = await startEmulator({ port: 0, host: '127.0.0.1', seed: seed as never });
});
afterAll(async () => {
  await emulator?.close();
});

/** The actions of a page's rows, in order. */
const actionsOn = (body: string) =>
  [...body.matchAll(/<tr class="audit-entry" data-action="([^"]+)"/g)].map((m) => m[1]);

describe('audit log in team mode', () => {
  let app: FastifyInstance;
  let vault: VaultInternals;
  const ip = { alice: '203.0.113.10', erin: '203.0.113.20', carol: '203.0.113.30', dave: '203.0.113.40' };
  let alice: Browser;
  let erin: Browser;
  let carol: Browser;
  let mallory: Browser;
  let aliceId: string;
  let erinId: string;
  let carolId: string;
  let aliceConnection: string;
  let erinConnection: string;

  beforeAll(async () => {
    ({ app, vault } = await testAppWithVault(teamEnv(emulator, { TRUST_PROXY: '1', ADMIN_TOKEN })));
    const browser = (address: string) => new Browser(app, { 'x-forwarded-for': address });
    alice = browser(ip.alice);
    erin = browser(ip.erin);
    carol = browser(ip.carol);
    mallory = browser('203.0.113.50');
    for (const [b, email] of [
      [alice, 'alice@example.com'],
      [erin, 'erin@example.com'],
      [carol, 'carol@example.com'],
      [mallory, 'mallory@example.com'],
    ] as const) {
      expect((await signIn(b, email)).statusCode).toBe(303);
    }
    const accounts = new Map((await vault.accounts.list()).map((a) => [a.email, a.id]));
    aliceId = accounts.get('alice@example.com') as string;
    erinId = accounts.get('erin@example.com') as string;
    carolId = accounts.get('carol@example.com') as string;
    aliceConnection = await connect(alice, 'alice@example.com');
    erinConnection = await connect(erin, 'erin@example.com');
    await connect(mallory, 'mallory@example.com');
  });
  afterAll(async () => {
    await app?.close();
  });

  /** The newest entry of `action` for `ownerId`. */
  async function latest(action: AuditEntry['action'], ownerId?: string) {
    return (await vault.audit.list(ownerId ? { ownerId } : {})).find((e) => e.action === action);
  }

  it('records a sign-in with the account as actor and the client address', async () => {
    expect(await latest('signin', aliceId)).toMatchObject({
      actor: { kind: 'account', id: aliceId, label: 'alice@example.com' },
      ownerId: aliceId,
      address: ip.alice,
    });
  });

  it('records a refused sign-in as anonymous, with only the email domain', async () => {
    const dave = new Browser(app, { 'x-forwarded-for': ip.dave });
    expect((await signIn(dave, 'dave@other.example')).statusCode).toBe(403);
    const refused = await latest('signin.refused');
    expect(refused).toMatchObject({ actor: { kind: 'anonymous' }, address: ip.dave, detail: 'domain other.example' });
    expect(refused?.ownerId).toBeUndefined();
    expect(JSON.stringify(refused)).not.toContain('dave@');
  });

  it('records connect, then reauthorize for a second grant of the same person', async () => {
    const connected = (await vault.audit.list({ ownerId: aliceId })).filter((e) => e.target === aliceConnection);
    expect(connected.map((e) => e.action)).toEqual(['connect']);
    expect(connected[0]).toMatchObject({
      actor: { kind: 'account', id: aliceId },
      ownerId: aliceId,
      address: ip.alice,
      detail: 'Alice Example <alice@example.com>',
    });
    expect(await connect(alice, 'alice@example.com')).toBe(aliceConnection);
    expect(await latest('reauthorize', aliceId)).toMatchObject({
      actor: { kind: 'account', id: aliceId },
      target: aliceConnection,
      address: ip.alice,
    });
  });

  it('records a brought integration without its client id or secret', async () => {
    await alice.get('/');
    const form = {
      clientId: `C${'ab'.repeat(32)}`,
      clientSecret: 'brought-secret-canary-0123456789',
      redirectUri: 'http://localhost:18481/oauth',
      scopes: 'spark:people_read',
    };
    expect((await alice.post('/configure', form)).statusCode).toBe(303);
    const [integration] = await vault.integrations.list(aliceId);
    const entry = await latest('integration.configure', aliceId);
    expect(entry).toMatchObject({
      actor: { kind: 'account', id: aliceId },
      ownerId: aliceId,
      target: integration?.id,
      address: ip.alice,
      detail: `added; API ${new URL(emulator.apiBase).host}`,
    });
    expect(JSON.stringify(entry)).not.toMatch(/abab|canary/);
    // Back to the configured integration for the connections below.
    await alice.get('/');
    expect((await alice.post('/configure/forget', {})).statusCode).toBe(303);
  });

  it("shows a member their own entries only, and an admin everyone's, escaping a hostile display name", async () => {
    const mine = await alice.get('/audit');
    expect(mine.statusCode).toBe(200);
    expect(mine.headers['cache-control']).toBe('no-store');
    expect(actionsOn(mine.body)).toEqual(['integration.configure', 'reauthorize', 'connect', 'signin']);
    expect(mine.body).not.toContain('erin@example.com');
    expect(mine.body).not.toContain(erinConnection);
    expect(mine.body).not.toContain('other.example');
    expect(mine.body).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(mine.body).toContain('href="/audit">Audit</a>');

    const all = await carol.get('/audit');
    expect(all.statusCode).toBe(200);
    const actions = actionsOn(all.body);
    expect(actions.filter((a) => a === 'signin')).toHaveLength(4);
    expect(actions).toContain('signin.refused');
    expect(all.body).toContain('erin@example.com');
    expect(all.body).toContain(erinConnection);
    // Mallory's name is escaped, and the terminal and bidi characters never reached the log.
    expect(all.body).not.toContain('<img src=x');
    expect(all.body).toContain('&lt;img src=x onerror=alert(1)&gt;Mallory &lt;mallory@example.com&gt;');
    expect(all.body).not.toMatch(/[\u001b\u202e]/);

    const filtered = await carol.get('/audit?action=connect');
    expect(new Set(actionsOn(filtered.body))).toEqual(new Set(['connect']));
    expect(actionsOn(filtered.body)).toHaveLength(3);
  });

  it('records an admin deleting a member’s connection, in the member’s log too', async () => {
    await carol.get('/connections');
    const res = await carol.post(`/admin/connections/${erinConnection}/delete`, {});
    expect(res.headers.location).toBe('/connections?notice=deleted');
    const entry = await latest('connection.delete', erinId);
    expect(entry).toMatchObject({
      actor: { kind: 'account', id: carolId, label: 'carol@example.com' },
      ownerId: erinId,
      target: erinConnection,
      address: ip.carol,
      detail: 'Erin Elsewhere <erin@example.com>',
    });
    const erinsPage = await erin.get('/audit');
    expect(actionsOn(erinsPage.body)[0]).toBe('connection.delete');
    expect(erinsPage.body).toContain('carol@example.com');
  });

  it('records a member deleting their own connection, and a script with the admin token', async () => {
    await alice.get(`/connections/${aliceConnection}`);
    expect((await alice.post(`/connections/${aliceConnection}/delete`, {})).statusCode).toBe(303);
    expect(await latest('connection.delete', aliceId)).toMatchObject({
      actor: { kind: 'account', id: aliceId },
      target: aliceConnection,
      address: ip.alice,
    });

    const other = await connect(alice, 'alice@example.com');
    const script = await app.inject({
      method: 'POST',
      url: `/admin/connections/${other}/delete`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-forwarded-for': '198.51.100.9' },
    });
    expect(script.headers.location).toBe('/connections?notice=deleted');
    expect(await latest('connection.delete', aliceId)).toMatchObject({
      actor: { kind: 'admin-token' },
      ownerId: aliceId,
      target: other,
      address: '198.51.100.9',
    });
  });

  it('records a sign-out, and not an anonymous one', async () => {
    const before = (await vault.audit.list()).length;
    const anonymous = new Browser(app);
    await anonymous.get('/');
    await anonymous.post('/signout', {});
    expect((await vault.audit.list()).length).toBe(before);
    await erin.get('/');
    expect((await erin.post('/signout', {})).statusCode).toBe(303);
    expect(await latest('signout', erinId)).toMatchObject({ actor: { kind: 'account', id: erinId }, address: ip.erin });
  });

  it('pages by cursor, refuses a malformed query, and is for members only', async () => {
    const first = await carol.get('/audit?action=signin');
    expect(first.body).not.toContain('rel="next"');
    for (const bad of ['/audit?before=yesterday', '/audit?action=drop', '/audit?id=%3Cscript%3E&before=1']) {
      const res = await carol.get(bad);
      expect(res.statusCode, bad).toBe(400);
      expect(res.body).not.toContain('<script>');
    }
    const older = await carol.get(`/audit?before=${Date.now() + 60_000}&action=signin`);
    expect(actionsOn(older.body).length).toBeGreaterThan(0);
    const anonymous = await new Browser(app).get('/audit');
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.body).not.toContain('audit-entry');
  });

  it('splits more than a page into pages of 50 without losing an entry', async () => {
    for (let i = 0; i < 60; i++) {
      await vault.audit.record({ actor: { kind: 'cli' }, action: 'key.create', ownerId: carolId, target: `key_${i}` });
    }
    const seen: string[] = [];
    let url = '/audit?action=key.create';
    for (let page = 0; page < 5 && url; page++) {
      const res = await carol.get(url);
      seen.push(...[...res.body.matchAll(/<code>(key_\d+)<\/code>/g)].map((m) => m[1] as string));
      url = (/<a href="([^"]+)" rel="next">/.exec(res.body)?.[1] ?? '').replaceAll('&amp;', '&');
    }
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
  });
});

describe('audit log in local mode', () => {
  it('records the admin unlock as the local operator, and a connection delete', async () => {
    const { app, vault } = await testAppWithVault({ ADMIN_TOKEN });
    try {
      const browser = new Browser(app);
      await browser.get('/');
      const unlocked = await browser.post('/admin/unlock', { token: ADMIN_TOKEN, next: '/connections' });
      expect(unlocked.statusCode).toBe(303);
      const [entry] = await vault.audit.list();
      expect(entry).toMatchObject({ actor: { kind: 'local' }, action: 'admin.unlock', address: '127.0.0.1' });
      // A wrong token is not an unlock.
      await browser.post('/admin/unlock', { token: 'wrong', next: '/' });
      expect(await vault.audit.list()).toHaveLength(1);
      const page = await browser.get('/audit');
      expect(actionsOn(page.body)).toEqual(['admin.unlock']);
    } finally {
      await app.close();
    }
  });
});
