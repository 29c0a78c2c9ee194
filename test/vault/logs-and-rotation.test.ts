/** No secret in any vault log line, through success and failure paths; key rotation while refreshes run. */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { fakeWebex } from './fake-webex.js';
import { TEST_KEY, TEST_KEY_2, tempDir, testConfig, tokenSet } from './helpers.js';

const DAY = 86_400_000;

async function seed(vault: VaultInternals, now: number, n: number) {
  const integ = await vault.integrations.upsert({
    clientId: 'C1',
    clientSecret: 'CLIENTSECRETCANARY',
    redirectUri: 'http://localhost:8080/oauth',
    scopes: ['spark:all'],
    apiBase: 'https://webex.test/v1',
  });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await vault.connections.saveFromGrant({
      integrationId: integ.id,
      tokens: tokenSet(
        { accessToken: `ACCESSCANARY${i}`, refreshToken: `REFRESHCANARY${i}`, expiresAt: now + DAY },
        now,
      ),
      person: { id: `p${i}`, emails: [`p${i}@example.com`], displayName: `P${i}` },
      requestedScopes: ['spark:all'],
    });
    ids.push(c.id);
  }
  return ids;
}

describe('vault logs and rotation', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('logs no secret through refresh, retry, needs_reauth and keep-alive', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const webex = fakeWebex();
    let now = Date.now();
    const vault = await openVault(testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY }), {
      fetch: webex.fetch,
      clock: () => now,
      logger: createLogger({ level: 'trace', destination }),
      retryBaseDelayMs: 1,
      keepAliveJitterMs: 0,
    });
    const [a, b] = await seed(vault, now, 2);
    now += 2 * DAY;
    webex.answers.push({ status: 503 }, { ok: true, refreshToken: 'ROTATEDCANARY' });
    const fresh = await vault.connections.getFreshToken(a as string);
    webex.answers.push({ status: 400, body: { error: 'invalid_grant', error_description: 'REFRESHCANARY1 is bad' } });
    await expect(vault.connections.getFreshToken(b as string)).rejects.toMatchObject({ code: 'needs_reauth' });
    now += 70 * DAY;
    await vault.sweepOnce();
    await vault.close();
    const all = lines.join('');
    expect(all).toContain('keySource');
    expect(all).toContain('needs re-authorization');
    for (const s of ['CLIENTSECRETCANARY', 'ACCESSCANARY', 'REFRESHCANARY', 'ROTATEDCANARY', fresh.accessToken]) {
      expect(all).not.toContain(s);
    }
  });

  it('rotates keys in batches while refreshes are running, losing nothing', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const db = join(t.dir, 'v.db');
    let now = Date.now();
    const old = await openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: TEST_KEY }), { clock: () => now });
    const ids = await seed(old, now, 120);
    await old.close();
    const webex = fakeWebex();
    const vault = await openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: `${TEST_KEY_2},${TEST_KEY}` }), {
      fetch: webex.fetch,
      clock: () => now,
    });
    now += 2 * DAY;
    const progress: number[] = [];
    const [rotation, tokens] = await Promise.all([
      vault.rotateKeys((p) => progress.push(p.done)),
      Promise.all(ids.slice(0, 30).map((id) => vault.connections.getFreshToken(id))),
    ]);
    expect(tokens.every((x) => x.accessToken.startsWith('ACCESS-'))).toBe(true);
    expect(rotation.done).toBeGreaterThanOrEqual(121 - 30);
    expect(progress.length).toBeGreaterThan(2); // batches of 50
    expect(await vault.store.countNotUnderKey('test2')).toBe(0);
    await vault.close();
    const only2 = await openVault(testConfig({ WEBEX_AUTH_DB: db, WEBEX_AUTH_KEYS: TEST_KEY_2 }));
    expect((await only2.connections.revealTokens(ids[100] as string))?.accessToken).toBe('ACCESSCANARY100');
    expect((await only2.connections.revealTokens(ids[3] as string))?.accessToken).toMatch(/^ACCESS-/);
    await only2.close();
  });
});
