/**
 * `/metrics`, the broker's `GET /api/v1/connections` and the admin dashboard `/connections` answer from store queries
 * (counts by status, a list by id, one page at a time), never by reading every connection: the vault's list of all
 * connections throws here. Real SQLite vault, the real app through app.inject.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { CONNECTIONS_PAGE_SIZE } from '../../src/server/routes/api/admin.js';
import { generateKeyEntry } from '../../src/vault/crypto/keyring.js';
import type { VaultInternals } from '../../src/vault/index.js';
import { openVault } from '../../src/vault/vault.js';
import { tokenSet } from '../vault/helpers.js';
import { testConfig } from './support/app.js';

const ADMIN_TOKEN = 'listings-admin-token-0123456789abcdef';
/** A few more connections than one dashboard page. */
const COUNT = CONNECTIONS_PAGE_SIZE + 5;

describe('connection listings without a full listing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webex-auth-listings-'));
  let app: FastifyInstance;
  let vault: VaultInternals;
  let ids: string[] = [];
  let key: string;
  let listed = 0;

  beforeAll(async () => {
    const config = testConfig({
      XDG_DATA_HOME: dir,
      WEBEX_AUTH_DB: join(dir, 'webex-auth.db'),
      WEBEX_AUTH_KEYS: generateKeyEntry('k1'),
      ADMIN_TOKEN,
    });
    vault = await openVault(config);
    const now = Date.now();
    const integ = await vault.integrations.upsert({
      clientId: 'C1',
      clientSecret: 'CLIENT-SECRET-CANARY',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      apiBase: 'https://webex.test/v1',
    });
    for (let i = 0; i < COUNT; i++) {
      const person = `person-${String(i).padStart(3, '0')}`;
      const c = await vault.connections.saveFromGrant({
        integrationId: integ.id,
        tokens: tokenSet({ accessToken: `ACCESS-${i}`, refreshToken: `REFRESH-${i}`, expiresAt: now + 3_600_000 }, now),
        person: { id: person, emails: [`${person}@example.com`], displayName: person },
        requestedScopes: ['spark:all'],
      });
      ids.push(c.id);
    }
    // Listed oldest first (created_at, then id).
    ids = (await vault.connections.find({})).map((c) => c.id);
    for (const id of ids.slice(0, 7)) await vault.connections.markNeedsReauth(id);
    key = (
      await vault.apiKeys.create({
        name: 'bot',
        connectionIds: [ids[3] as string, ids[104] as string],
        permissions: ['token'],
      })
    ).key;
    // Every path under test must do without the list of all connections.
    vault.connections.list = async () => {
      listed++;
      throw new Error('a full listing of the connections');
    };
    app = await buildApp(config, { vault });
    app.addHook('onClose', async () => vault.close());
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('/metrics counts connections by status', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: admin });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`webex_auth_connections{status="active"} ${COUNT - 7}\n`);
    expect(res.body).toContain('webex_auth_connections{status="needs_reauth"} 7\n');
    expect(listed).toBe(0);
  });

  it('the broker lists only the key’s connections', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/connections',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { connections: { id: string; status: string }[] };
    expect(body.connections.map((c) => [c.id, c.status])).toEqual([
      [ids[3], 'needs_reauth'],
      [ids[104], 'active'],
    ]);
    expect(listed).toBe(0);
  });

  it('the dashboard shows one page at a time with a link to the next', async () => {
    const first = await app.inject({ method: 'GET', url: '/connections', headers: admin });
    expect(first.statusCode).toBe(200);
    const shown = (body: string) => [...body.matchAll(/id="connection-([A-Za-z0-9_-]+)"/g)].map((m) => m[1]);
    expect(shown(first.body)).toEqual(ids.slice(0, CONNECTIONS_PAGE_SIZE));
    expect(first.body).toContain(`${COUNT} connections: ${COUNT - 7} active, 7 needing re-authorization.`);
    const next = /<a href="([^"]+)" rel="next">/.exec(first.body)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toBe(`/connections?offset=${CONNECTIONS_PAGE_SIZE}`);

    const second = await app.inject({ method: 'GET', url: next as string, headers: admin });
    expect(second.statusCode).toBe(200);
    expect(shown(second.body)).toEqual(ids.slice(CONNECTIONS_PAGE_SIZE));
    expect(second.body).not.toContain('rel="next"');
    expect(second.body).toContain('href="/connections?offset=0" rel="prev"');
    expect(listed).toBe(0);
  });

  it('a malformed page offset is a 400 page', async () => {
    for (const offset of ['-1', 'abc', '1e3', '9999999999']) {
      const res = await app.inject({ method: 'GET', url: `/connections?offset=${offset}`, headers: admin });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('Bad page');
    }
  });
});
