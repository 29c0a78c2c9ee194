/**
 * The keys page `/keys` through app.inject(): a team-mode server on the real emulator and a real SQLite vault, with
 * two members (alice, erin) and an admin (carol), each signed in and connected through Sign in with Webex. A member
 * sees and manages only her own keys (another's key or connection is the same 404 as an unknown id, and nothing
 * changes); an admin sees all; a new key is shown once; bad input is a 400 page with a message. Also local mode.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { escapeHtml } from '../../src/server/html.js';
import { generateKeyEntry } from '../../src/vault/crypto/keyring.js';
import { LOCAL_OPERATOR } from '../../src/vault/types.js';
import { openVault, type VaultInternals } from '../../src/vault/vault.js';
import { ADMIN_TOKEN, connect, type RunningEmulator, signIn, startTeamEmulator, teamEnv } from '../accounts/support.js';
import { Browser, testAppWithVault, testConfig } from './support/app.js';

/** The key shown on a "Key made" page. */
const shownKey = (body: string) => /id="new-key" data-value="(wak_[A-Za-z0-9_-]+)"/.exec(body)?.[1];
/** The ids of the key cards on a /keys page. */
const keyIds = (body: string) => [...body.matchAll(/data-key-id="([^"]+)"/g)].map((m) => m[1]);

describe('the keys page in team mode', () => {
  let emulator: RunningEmulator;
  let app: FastifyInstance;
  let vault: VaultInternals;
  let alice: Browser;
  let erin: Browser;
  let carol: Browser;
  let aliceConnection: string;
  let erinConnection: string;
  let aliceId: string;

  beforeAll(async () => {
    emulator = await startTeamEmulator();
    const t = await testAppWithVault(teamEnv(emulator, { ADMIN_TOKEN }));
    app = t.app;
    vault = t.vault;
    alice = new Browser(app);
    erin = new Browser(app);
    carol = new Browser(app);
    await signIn(alice, 'alice@example.com');
    await signIn(erin, 'erin@example.com');
    await signIn(carol, 'carol@example.com');
    aliceConnection = await connect(alice, 'alice@example.com');
    erinConnection = await connect(erin, 'erin@example.com');
    aliceId = (await vault.accounts.list()).find((a) => a.email === 'alice@example.com')?.id as string;
  });
  afterAll(async () => {
    await app?.close();
    await emulator?.close();
  });

  /** Makes a key on /keys as `browser`; returns the response. */
  async function create(browser: Browser, form: Record<string, string | string[]>) {
    await browser.get('/keys');
    return browser.post('/keys', form);
  }

  it('a member makes a key: it is shown once with a copy button, a curl line and a bot, and works on the broker', async () => {
    const made = await create(alice, { name: 'ooo bot', connection: aliceConnection, permission: 'token' });
    expect(made.statusCode, made.body.slice(0, 500)).toBe(201);
    const key = shownKey(made.body) as string;
    expect(key).toMatch(/^wak_/);
    expect(made.body).toContain('data-copy="new-key"');
    expect(made.body).toContain(
      `curl -H &quot;Authorization: Bearer ${key}&quot; &quot;http://localhost:80/api/v1/connections/${aliceConnection}/token&quot;`,
    );
    // The name examples/out-of-office-bot reads (not WEBEX_AUTH_KEY, one letter from the key ring's WEBEX_AUTH_KEYS).
    expect(made.body).toContain('BROKER_API_KEY=wak_');
    expect(made.body).toContain('process.env.BROKER_API_KEY');
    expect(made.body).not.toContain('WEBEX_AUTH_KEY');
    expect(made.headers['cache-control']).toContain('no-store');
    // Never in the session cookie nor a Location.
    expect(made.headers.location).toBeUndefined();
    expect(alice.cookie).not.toContain(key);

    const token = await app.inject({
      url: `/api/v1/connections/${aliceConnection}/token`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(token.statusCode).toBe(200);

    // A reload of /keys lists it (name, prefix, last used) but never shows the key again.
    const list = await alice.get('/keys');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(key);
    expect(list.body).toContain('ooo bot');
    expect(list.body).toContain(escapeHtml(`${key.slice(0, 8)}…`));
    expect(list.body).toContain('Alice Example');
    const record = (await vault.apiKeys.list(aliceId)).find((k) => k.name === 'ooo bot');
    expect(record?.permissions).toEqual(['token']);
    expect(record?.ownerId).toBe(aliceId);
    expect(list.body).not.toMatch(/class="last-used">never/);
  });

  it('records key.create in the audit log with the account, the address and the permissions', async () => {
    const made = await create(alice, {
      name: 'audited',
      connection: aliceConnection,
      permission: ['token', 'refresh'],
    });
    expect(made.statusCode).toBe(201);
    const record = (await vault.apiKeys.list(aliceId)).find((k) => k.name === 'audited');
    const entries = await vault.audit.list({ ownerId: aliceId });
    const entry = entries.find((e) => e.action === 'key.create' && e.target === record?.id);
    expect(entry?.actor).toMatchObject({ kind: 'account', id: aliceId, label: 'alice@example.com' });
    expect(entry?.address).toBe('127.0.0.1');
    expect(entry?.detail).toBe('token,refresh');
    expect(JSON.stringify(entries)).not.toContain(shownKey(made.body) as string);
  });

  it('a member sees only her own keys; the admin sees everyone’s with their owner', async () => {
    const erinMade = await create(erin, { name: 'erin key', connection: erinConnection, permission: 'token' });
    expect(erinMade.statusCode).toBe(201);
    const aliceKeys = (await vault.apiKeys.list(aliceId)).map((k) => k.id);
    const erinKeys = (await vault.apiKeys.list()).filter((k) => k.name === 'erin key').map((k) => k.id);

    const asAlice = await alice.get('/keys');
    expect(keyIds(asAlice.body).sort()).toEqual([...aliceKeys].sort());
    expect(asAlice.body).not.toContain('erin key');
    expect(asAlice.body).not.toContain('Erin Elsewhere'); // nor erin's connection among the checkboxes
    const asErin = await erin.get('/keys');
    expect(keyIds(asErin.body)).toEqual(erinKeys);
    expect(asErin.body).not.toContain('ooo bot');

    const asCarol = await carol.get('/keys');
    expect(asCarol.statusCode).toBe(200);
    expect(keyIds(asCarol.body).sort()).toEqual([...aliceKeys, ...erinKeys].sort());
    expect(asCarol.body).toContain('alice@example.com');
    expect(asCarol.body).toContain('erin@example.com');
    // The header links to the page for members and admins.
    expect(asAlice.body).toContain('<a href="/keys">Keys</a>');
  });

  it('a member cannot make a key for another member’s connection: 404 as for an unknown id, nothing made', async () => {
    const before = (await vault.apiKeys.list()).length;
    const stolen = await create(alice, { name: 'steal', connection: erinConnection, permission: 'token' });
    expect(stolen.statusCode).toBe(404);
    expect(stolen.body).not.toContain('Erin');
    const unknown = await create(alice, { name: 'steal', connection: 'no-such-connection', permission: 'token' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body.replace(/value="[^"]*"/g, '')).toBe(stolen.body.replace(/value="[^"]*"/g, ''));
    // Mixed with her own: still refused as a whole.
    const mixed = await create(alice, {
      name: 'steal',
      connection: [aliceConnection, erinConnection],
      permission: 'token',
    });
    expect(mixed.statusCode).toBe(404);
    expect((await vault.apiKeys.list()).length).toBe(before);
    expect((await vault.apiKeys.list()).some((k) => k.name === 'steal')).toBe(false);
  });

  it('a member cannot revoke or narrow another member’s key: 404, and the key still works', async () => {
    const made = await create(erin, { name: 'erin bot', connection: erinConnection, permission: 'token' });
    const key = shownKey(made.body) as string;
    const record = await vault.apiKeys.verify(key);
    expect(record).toBeDefined();
    await alice.get('/keys');
    const revoke = await alice.post(`/keys/${record?.id}/revoke`, {});
    expect(revoke.statusCode).toBe(404);
    const narrow = await alice.post(`/keys/${record?.id}/narrow`, {});
    expect(narrow.statusCode).toBe(404);
    expect((await alice.post('/keys/key_unknown/revoke', {})).statusCode).toBe(404);
    expect((await alice.post('/keys/bad%20id!/revoke', {})).statusCode).toBe(404);
    expect(await vault.apiKeys.verify(key)).toBeDefined();
    const token = await app.inject({
      url: `/api/v1/connections/${erinConnection}/token`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(token.statusCode).toBe(200);
  });

  it('the owner revokes her key: 303 to /keys with a notice, and the broker answers 401', async () => {
    const made = await create(alice, { name: 'short-lived', connection: aliceConnection, permission: 'token' });
    const key = shownKey(made.body) as string;
    const record = await vault.apiKeys.verify(key);
    await alice.get('/keys');
    const revoke = await alice.post(`/keys/${record?.id}/revoke`, {});
    expect(revoke.statusCode).toBe(303);
    expect(revoke.headers.location).toBe('/keys?notice=revoked');
    expect((await alice.get('/keys?notice=revoked')).body).toContain('The key was revoked');
    const token = await app.inject({
      url: `/api/v1/connections/${aliceConnection}/token`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(token.statusCode).toBe(401);
    expect((await vault.audit.list()).some((e) => e.action === 'key.revoke' && e.target === record?.id)).toBe(true);
    // Revoking it again: it is no longer one she may see.
    expect((await alice.post(`/keys/${record?.id}/revoke`, {})).statusCode).toBe(404);
  });

  it('a legacy key is marked, with a one-click “Narrow to token”', async () => {
    const made = await create(alice, { name: 'old key', connection: aliceConnection, permission: 'token' });
    const record = await vault.apiKeys.verify(shownKey(made.body) as string);
    // Made as before permissions existed: no permissions stored.
    await vault.store.insertApiKey({
      id: 'key_legacyAlice',
      ownerId: aliceId,
      name: 'legacy key',
      keyHash: 'f'.repeat(64),
      prefix: 'wak_Lega',
      connectionIds: [aliceConnection],
      createdAt: Date.now(),
      lastUsedAt: undefined,
      revokedAt: undefined,
    });
    const list = await alice.get('/keys');
    expect(list.body).toMatch(
      /id="key-key_legacyAlice"[\s\S]*?badge missing">legacy[\s\S]*?\/keys\/key_legacyAlice\/narrow/,
    );
    expect(list.body).not.toContain(`/keys/${record?.id}/narrow`);
    // A newer key is not narrowed to `token` by a forged post (that could add a permission it lacks).
    expect((await alice.post(`/keys/${record?.id}/narrow`, {})).statusCode).toBe(400);
    // erin may not narrow it; alice may.
    await erin.get('/keys');
    expect((await erin.post('/keys/key_legacyAlice/narrow', {})).statusCode).toBe(404);
    expect((await vault.apiKeys.list(aliceId)).find((k) => k.id === 'key_legacyAlice')?.legacy).toBe(true);
    const narrow = await alice.post('/keys/key_legacyAlice/narrow', {});
    expect(narrow.statusCode).toBe(303);
    expect(narrow.headers.location).toBe('/keys?notice=narrowed');
    const after = (await vault.apiKeys.list(aliceId)).find((k) => k.id === 'key_legacyAlice');
    expect(after).toMatchObject({ legacy: false, permissions: ['token'] });
    expect((await vault.audit.list()).some((e) => e.action === 'key.narrow' && e.target === 'key_legacyAlice')).toBe(
      true,
    );
  });

  it('bad input is the page again with a clear message and 400; nothing is made', async () => {
    const before = (await vault.apiKeys.list()).length;
    const cases: [Record<string, string | string[]>, string][] = [
      [{ name: '', connection: aliceConnection, permission: 'token' }, 'Give the key a name'],
      [{ name: 'x'.repeat(101), connection: aliceConnection, permission: 'token' }, 'longer than 100'],
      [{ name: 'n', permission: 'token' }, 'Pick at least one connection'],
      [{ name: 'n', connection: aliceConnection }, 'Pick at least one permission'],
      [{ name: 'n', connection: aliceConnection, permission: 'admin' }, 'There is no permission “admin”'],
      [{ name: 'n', connection: aliceConnection, permission: 'token', paths: 'rooms' }, 'limit the proxy permission'],
      [{ name: 'n', connection: aliceConnection, permission: 'proxy', paths: '../admin' }, 'Paths are up to 20'],
      [{ name: 'n', connection: aliceConnection, permission: 'proxy', methods: 'TRACE' }, 'Methods are GET'],
      [{ name: 'n', connection: 'bad id!', permission: 'token' }, 'not a connection id'],
      [{ name: 'a\u0007b', connection: aliceConnection, permission: 'token' }, 'control characters'],
      [{ name: 'n', connection: aliceConnection, permission: Array(6).fill('token') }, 'Pick each permission once'],
    ];
    for (const [form, message] of cases) {
      const res = await create(alice, form);
      expect(res.statusCode, JSON.stringify(form)).toBe(400);
      expect(res.body, JSON.stringify(form)).toContain(escapeHtml(message));
      expect(shownKey(res.body)).toBeUndefined();
    }
    expect((await vault.apiKeys.list()).length).toBe(before);
  });

  it('escapes what a member typed, and keeps proxy limits', async () => {
    const made = await create(alice, {
      name: '<img src=x onerror=alert(1)>',
      connection: aliceConnection,
      permission: ['token', 'proxy'],
      paths: 'rooms, messages',
      methods: 'get post',
    });
    expect(made.statusCode, made.body.slice(0, 400)).toBe(201);
    expect(made.body).not.toContain('<img src=x');
    const list = await alice.get('/keys');
    expect(list.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(list.body).not.toContain('<img src=x');
    const record = (await vault.apiKeys.list(aliceId)).find((k) => k.name.startsWith('<img'));
    expect(record).toMatchObject({
      permissions: ['token', 'proxy'],
      paths: ['rooms', 'messages'],
      methods: ['GET', 'POST'],
    });
  });

  it('the admin may make a key on a member’s connection (owned by that member), never one spanning owners', async () => {
    const mixed = await create(carol, {
      name: 'span',
      connection: [aliceConnection, erinConnection],
      permission: 'token',
    });
    expect(mixed.statusCode).toBe(400);
    expect(mixed.body).toContain('A key belongs to one owner');
    expect((await vault.apiKeys.list()).some((k) => k.name === 'span')).toBe(false);
    const made = await create(carol, { name: 'for erin', connection: erinConnection, permission: 'token' });
    expect(made.statusCode).toBe(201);
    const record = await vault.apiKeys.verify(shownKey(made.body) as string);
    const erinId = (await vault.accounts.list()).find((a) => a.email === 'erin@example.com')?.id;
    expect(record?.ownerId).toBe(erinId);
    // Erin sees it as hers and may revoke it.
    expect(keyIds((await erin.get('/keys')).body)).toContain(record?.id);
    expect((await erin.post(`/keys/${record?.id}/revoke`, {})).statusCode).toBe(303);
  });

  it('a script with the admin token makes a key for a member’s connection, audited as admin-token', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/keys',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        _csrf: '',
        name: 'script key',
        connection: aliceConnection,
        permission: 'token',
      }).toString(),
    });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
    const record = await vault.apiKeys.verify(shownKey(res.body) as string);
    expect(record).toMatchObject({ ownerId: aliceId, permissions: ['token'] });
    const entry = (await vault.audit.list()).find((e) => e.action === 'key.create' && e.target === record?.id);
    expect(entry?.actor).toEqual({ kind: 'admin-token' });
  });

  it('forms without the CSRF token are refused (403), and anonymous visitors go to sign in', async () => {
    const before = (await vault.apiKeys.list()).length;
    await alice.get('/keys');
    const forged = await alice.post('/keys', { name: 'x', connection: aliceConnection, permission: 'token' }, false);
    expect(forged.statusCode).toBe(403);
    const anonymous = new Browser(app);
    expect((await anonymous.get('/keys')).statusCode).toBe(303);
    expect((await vault.apiKeys.list()).length).toBe(before);
  });
});

describe('the keys page in local mode', () => {
  it('the local operator makes and lists keys, with a Keys link in the header, audited as local', async () => {
    const { app, vault } = await testAppWithVault();
    try {
      const browser = new Browser(app);
      const page = await browser.get('/keys');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<a href="/keys">Keys</a>');
      expect(page.body).toContain('authorize one');
      // A connection of the local operator, as the CLI or the home page would save it.
      const { connection } = await seedLocalConnection(vault);
      const form = await browser.get('/keys');
      expect(form.body).toContain(`value="${connection}"`);
      const made = await browser.post('/keys', { name: 'cli bot', connection, permission: 'token' });
      expect(made.statusCode).toBe(201);
      const record = await vault.apiKeys.verify(shownKey(made.body) as string);
      expect(record?.ownerId).toBe(LOCAL_OPERATOR);
      const entry = (await vault.audit.list()).find((e) => e.action === 'key.create');
      expect(entry?.actor.kind).toBe('local');
    } finally {
      await app.close();
    }
  });
});

describe('the audit log failing', () => {
  it('never fails the request: the key is still made and shown once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webex-auth-keys-'));
    const config = testConfig({
      XDG_DATA_HOME: dir,
      WEBEX_AUTH_DB: join(dir, 'webex-auth.db'),
      WEBEX_AUTH_KEYS: generateKeyEntry('k1'),
    });
    const vault = await openVault(config);
    let attempts = 0;
    vault.audit.record = async () => {
      attempts++;
      throw new Error('audit store down');
    };
    const app = await buildApp(config, { vault });
    try {
      const { connection } = await seedLocalConnection(vault);
      const browser = new Browser(app);
      await browser.get('/keys');
      const made = await browser.post('/keys', { name: 'unaudited', connection, permission: 'token' });
      expect(made.statusCode).toBe(201);
      expect(await vault.apiKeys.verify(shownKey(made.body) as string)).toBeDefined();
      expect(attempts).toBeGreaterThan(0);
    } finally {
      await app.close();
      await vault.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Saves a local operator's connection straight into the vault (as a grant would). */
async function seedLocalConnection(vault: VaultInternals) {
  const integration = await vault.integrations.upsert({
    clientId: 'C-local-keys-test',
    clientSecret: 'secret-local-keys-test',
    redirectUri: 'http://localhost:8080/oauth',
    scopes: ['spark:people_read'],
    apiBase: 'https://webexapis.com/v1',
  });
  const now = Date.now();
  const connection = await vault.connections.saveFromGrant({
    integrationId: integration.id,
    tokens: {
      accessToken: 'access-local-keys-test',
      refreshToken: 'refresh-local-keys-test',
      expiresAt: now + 3_600_000,
      refreshExpiresAt: now + 86_400_000,
      scopes: ['spark:people_read'],
      tokenType: 'Bearer',
      scopeReported: true,
      receivedAt: now,
    },
    person: { id: 'person-local', emails: ['local@example.com'], displayName: 'Local Person' },
    requestedScopes: ['spark:people_read'],
  });
  return { connection: connection.id };
}
