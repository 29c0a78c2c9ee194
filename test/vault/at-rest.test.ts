/**
 * Secrets at rest: after a grant, a refresh, an API key and a key rotation, the raw database rows (read with the
 * database driver, not through the vault) contain no client secret, access token, refresh token or API key in clear,
 * on SQLite and on PostgreSQL.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { fakeWebex } from './fake-webex.js';
import {
  dropSchema,
  freshSchema,
  PG_URL,
  postgresAvailable,
  TEST_KEY,
  TEST_KEY_2,
  tempDir,
  testConfig,
  tokenSet,
} from './helpers.js';

const pgUp = await postgresAvailable();
const TABLES = ['integrations', 'connections', 'api_keys', 'leases', 'vault_migrations'];

/** Exercises every secret-bearing path and returns the secrets that must not appear in clear. */
async function exercise(vault: VaultInternals): Promise<string[]> {
  const now = Date.now();
  const integ = await vault.integrations.upsert({
    clientId: 'C-canary-client',
    clientSecret: 'CLIENTSECRETCANARY0123456789',
    redirectUri: 'http://localhost:8080/oauth',
    scopes: ['spark:all'],
    apiBase: 'https://webex.test/v1',
  });
  const c = await vault.connections.saveFromGrant({
    integrationId: integ.id,
    tokens: tokenSet(
      {
        accessToken: 'ACCESSTOKENCANARY0123456789',
        refreshToken: 'REFRESHTOKENCANARY0123456789',
        expiresAt: now - 1000,
        refreshExpiresAt: now + 86_400_000,
      },
      now,
    ),
    person: { id: 'p1', emails: ['alice@example.com'], displayName: 'Alice' },
    requestedScopes: ['spark:all'],
  });
  const fresh = await vault.connections.getFreshToken(c.id);
  const { key } = await vault.apiKeys.create({ name: 'bot', connectionIds: [c.id] });
  return ['CLIENTSECRETCANARY', 'ACCESSTOKENCANARY', 'REFRESHTOKENCANARY', fresh.accessToken, key, key.slice(4)];
}

function assertClean(rows: unknown[], secrets: string[]) {
  const dump = JSON.stringify(rows);
  expect(rows.length).toBeGreaterThan(3);
  for (const s of secrets) expect(dump).not.toContain(s);
  // Base64 of a secret would be just as clear.
  for (const s of secrets) expect(dump).not.toContain(Buffer.from(s).toString('base64').slice(0, 20));
}

describe('no secret in clear at rest', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('SQLite', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const db = join(t.dir, 'v.db');
    const webex = fakeWebex();
    webex.answers.push({ ok: true, refreshToken: 'ROTATEDREFRESHCANARY' });
    const vault = await openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: `${TEST_KEY_2},${TEST_KEY}` }), {
      fetch: webex.fetch,
    });
    const secrets = [...(await exercise(vault)), 'ROTATEDREFRESHCANARY'];
    await vault.rotateKeys();
    await vault.close();
    const raw = new Database(db, { readonly: true });
    const rows = TABLES.flatMap((t) => raw.prepare(`SELECT * FROM ${t}`).all());
    raw.close();
    assertClean(rows, secrets);
  });

  it.skipIf(!pgUp)('PostgreSQL', async () => {
    const schema = freshSchema('atrest');
    cleanups.push(() => dropSchema(schema));
    const webex = fakeWebex();
    webex.answers.push({ ok: true, refreshToken: 'ROTATEDREFRESHCANARY' });
    const vault = await openVault(testConfig({ DATABASE_URL: PG_URL, WEBEX_AUTH_KEYS: TEST_KEY }), {
      fetch: webex.fetch,
      schema,
    });
    const secrets = [...(await exercise(vault)), 'ROTATEDREFRESHCANARY'];
    await vault.close();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const rows: unknown[] = [];
    for (const t of TABLES) rows.push(...(await client.query(`SELECT * FROM ${schema}.${t}`)).rows);
    await client.end();
    assertClean(rows, secrets);
  });
});
