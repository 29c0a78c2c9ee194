/**
 * The home page's presets and the person a grant is stored under, against the real emulator (demo mode, port 0) and
 * the real vault: every preset through the whole flow, and re-authorization with more scopes — in the web app and in
 * the CLI's completeLogin — landing on the same connection.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeLogin } from '../../src/cli/login/finish.js';
import { createOutput } from '../../src/cli/ui/output.js';
import { DEMO_SEED } from '../../src/emulator/demo-seed.js';
import { createAuthorizationRequest } from '../../src/oauth/authorize.js';
import { parseCallback } from '../../src/oauth/callback.js';
import { exchangeCode } from '../../src/oauth/tokens.js';
import type { Integration } from '../../src/oauth/types.js';
import { scopeInfo } from '../../src/scopes/catalog.js';
import type { Demo } from '../../src/server/demo.js';
import { SPACE_SCOPES } from '../../src/server/routes/space.js';
import { SCOPE_PRESETS } from '../../src/server/views/home.js';
import { openVault } from '../../src/vault/index.js';
import { personIdFromSub } from '../../src/webex/person.js';
import { Browser } from './support/app.js';
import { DEMO_REDIRECT, type DemoApp, startDemoApp } from './support/demo-app.js';
import { consentAs } from './support/emulator-person.js';

let running: DemoApp;
let demo: Demo;
let app: FastifyInstance;
let dir: string;
const REDIRECT = DEMO_REDIRECT;

beforeAll(async () => {
  running = await startDemoApp('presets');
  ({ demo, app, dir } = running);
});
afterAll(async () => running?.close());

/** Authorizes in the web app (a preset, or scopes) as `email`; returns the stored connection. */
async function authorize(form: Record<string, string | string[]>, email: string) {
  const b = new Browser(app);
  await b.get('/');
  const started = await b.post('/oauth/start', form);
  expect(started.statusCode, started.body).toBe(303);
  const authorizeUrl = new URL(String(started.headers.location));
  const callback = await consentAs(authorizeUrl.toString(), email);
  const done = await b.get(callback.pathname + callback.search);
  expect(done.statusCode, done.body.slice(0, 300)).toBe(200);
  const id = decodeURIComponent(String(done.headers['content-location']).split('/').pop() ?? '');
  const vault = await openVault(demo.config);
  const connection = await vault.connections.get(id).finally(() => vault.close());
  if (!connection) throw new Error(`connection ${id} not stored`);
  return { connection, requested: authorizeUrl.searchParams.get('scope')?.split(' ') ?? [], page: b };
}

/** The REST id of a seeded person, as people/me answers it (asked with the demo bot's token). */
async function personIdOf(email: string): Promise<string> {
  const res = await fetch(`${demo.config.apiBase}/people?email=${encodeURIComponent(email)}`, {
    headers: { authorization: `Bearer ${demo.config.botToken}` },
  });
  const body = (await res.json()) as { items: { id: string }[] };
  expect(res.status).toBe(200);
  return body.items[0]?.id as string;
}

describe('presets', () => {
  it('each says its job, asks for openid, and asks only for scopes the catalog and the demo integration know', () => {
    const demoScopes = new Set<string>(DEMO_SEED.integrations[0]?.scopes ?? []);
    expect(SCOPE_PRESETS.length).toBeGreaterThanOrEqual(3);
    for (const p of SCOPE_PRESETS) {
      expect(p.label.length, p.id).toBeGreaterThan(3);
      expect(p.why.length, p.id).toBeGreaterThan(10);
      expect(p.scopes, p.id).toContain('openid');
      for (const s of p.scopes) {
        expect(scopeInfo(s), `${p.id}: ${s}`).toBeDefined();
        expect(demoScopes.has(s), `${p.id}: ${s} on the demo integration`).toBe(true);
      }
    }
    const byId = Object.fromEntries(SCOPE_PRESETS.map((p) => [p.id, p.scopes]));
    // The seed's out-of-office bot only needs to be told of direct messages: it answers with its own bot token.
    expect(byId['read-messages']).toEqual(['spark:messages_read', 'openid']);
    expect(byId['space-demo']).toEqual([...SPACE_SCOPES, 'openid']);
    expect(byId.everything).toEqual(['spark:all', 'openid']);
  });

  it('the home page shows each preset with its job and its scopes', async () => {
    const home = (await new Browser(app).get('/')).body;
    for (const p of SCOPE_PRESETS) {
      const button = new RegExp(`<button type="submit" name="preset" value="${p.id}"[^>]*>([\\s\\S]*?)</button>`).exec(
        home,
      )?.[1];
      expect(button, p.id).toBeDefined();
      expect(button).toContain(p.label);
      expect(button).toContain(p.scopes.join(' '));
    }
  });

  it('the demo picker offers every scope the demo integration registers, and pre-checks only the first-look pair', async () => {
    const home = (await new Browser(app).get('/')).body;
    const boxes = [...home.matchAll(/<input type="checkbox" id="[^"]*" name="scope" value="([^"]+)"( checked)?>/g)];
    const offered = boxes.map((m) => m[1]);
    for (const scope of ['spark:messages_read', 'spark:messages_write', 'spark:memberships_read', 'openid']) {
      expect(offered, scope).toContain(scope);
    }
    expect(boxes.filter((m) => m[2]).map((m) => m[1])).toEqual(['spark:people_read', 'spark:rooms_read']);
  });

  it('every preset works in demo mode: openid and its scopes granted, stored under the known person', async () => {
    const alice = await personIdOf('alice@example.com');
    expect(Buffer.from(alice, 'base64').toString()).toMatch(/^ciscospark:\/\/us\/PEOPLE\/[0-9a-f-]{36}$/);
    for (const p of SCOPE_PRESETS) {
      const { connection, requested } = await authorize({ preset: p.id }, 'alice@example.com');
      expect(requested, p.id).toEqual(p.scopes);
      for (const s of p.scopes) expect(connection.scopes, `${p.id} granted ${s}`).toContain(s);
      expect(connection.personId, p.id).toBe(alice);
    }
  });
});

describe('the person of a grant', () => {
  it('personIdFromSub gives the id people/me answers for the same person', async () => {
    const bob = await personIdOf('bob@example.com');
    const uuid = /PEOPLE\/(.+)$/.exec(Buffer.from(bob, 'base64').toString())?.[1] as string;
    expect(personIdFromSub(uuid)).toBe(bob);
    expect(personIdFromSub(uuid.toUpperCase())).toBe(bob);
    expect(personIdFromSub(bob)).toBe(bob);
  });

  it('authorizing again with more scopes updates the same connection; the CLI resolves the same person', async () => {
    const bob = await personIdOf('bob@example.com');
    // Without spark:people_read: the id_token's sub names the person.
    const first = await authorize({ scope: ['spark:messages_read', 'openid'] }, 'bob@example.com');
    expect(first.connection.personId).toBe(bob);
    expect(first.connection.scopes).not.toContain('spark:people_read');
    expect(first.connection.personEmail).toBe('');
    const page = await first.page.get(`/connections/${first.connection.id}`);
    expect(page.body).toContain('Reading the name and email needs spark:people_read.');

    const second = await authorize(
      { scope: ['spark:people_read', 'spark:messages_read', 'openid'] },
      'bob@example.com',
    );
    expect(second.connection.id).toBe(first.connection.id);
    expect(second.connection.personId).toBe(bob);
    expect(second.connection.scopes).toEqual(
      expect.arrayContaining(['spark:people_read', 'spark:messages_read', 'openid']),
    );
    expect(second.connection.personEmail).toBe('bob@example.com');
    expect(second.connection.displayName).toBe('Bob Example');

    // The CLI's end of login, with a token pair that cannot read people/me and no id_token claims: userinfo's sub.
    const integration: Integration = {
      clientId: demo.config.clientId as string,
      clientSecret: demo.config.clientSecret as string,
      redirectUri: REDIRECT,
      apiBase: demo.config.apiBase,
    };
    const request = createAuthorizationRequest({ integration, scopes: ['spark:messages_read', 'openid'] });
    const callback = await consentAs(request.url, 'bob@example.com');
    const parsed = parseCallback(callback, (s) => (s === request.pending.state ? request.pending : undefined));
    const tokens = await exchangeCode(integration, parsed);
    expect(tokens.scopes).not.toContain('spark:people_read');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.resume();
    stderr.resume();
    const out = createOutput({
      stdin: new PassThrough(),
      stdout,
      stderr,
      env: {},
      cwd: dir,
      isTTY: false,
      stdoutIsTTY: false,
      openBrowser: () => Promise.reject(new Error('no browser')),
    });
    const vault = await openVault(demo.config);
    try {
      const cli = await completeLogin({
        vault,
        out,
        integration,
        tokens,
        requestedScopes: ['spark:messages_read', 'openid'],
        signal: new AbortController().signal,
      });
      expect(cli.personId).toBe(bob);
      // The CLI stores under the configured integration and the local operator, as the local web app does.
      expect(cli.id).toBe(first.connection.id);
    } finally {
      await vault.close();
    }
  });
});
