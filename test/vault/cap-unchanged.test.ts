/**
 * Cap awareness against the real emulator: a refresh that Webex answers with the same access token
 * (`refreshUnchangedWithin`) is not a new live token, and a device-grant-like token (64,799 s) asked for a day's
 * validity is answered with the freshest token, says so, and never loops refreshing.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { connectFromEmulator, refreshGrants, testSeed } from './emulator-grant.js';
import { TEST_KEY, tempDir, testConfig } from './helpers.js';

const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function setup(emulatorOptions: Parameters<typeof startEmulator>[0]) {
  const emulator: RunningEmulator = await startEmulator({
    seed: testSeed,
    autoConsent: 'alice@example.com',
    ...emulatorOptions,
  });
  closers.push(() => emulator.close());
  const t = tempDir();
  closers.push(t.cleanup);
  const vault = await openVault(
    testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY, FORCED_REFRESH_MIN_INTERVAL: '0' }),
  );
  closers.push(() => vault.close());
  const connection = await connectFromEmulator(vault, emulator.apiBase);
  return { emulator, vault, connection };
}

describe('live tokens counted for the cap', () => {
  it('an unchanged token from a refresh is not a new live token', async () => {
    const { emulator, vault, connection } = await setup({ refreshUnchangedWithin: 600 });
    expect((await vault.connections.tokenCap(connection.id))?.minted).toBe(1);
    await vault.connections.refresh(connection.id);
    const first = (await vault.connections.revealTokens(connection.id))?.accessToken;
    expect((await vault.connections.tokenCap(connection.id))?.minted).toBe(2);
    // Inside the window Webex answers the same token: two refresh grants, still two live tokens.
    await vault.connections.refresh(connection.id);
    expect((await vault.connections.revealTokens(connection.id))?.accessToken).toBe(first);
    expect(await refreshGrants(emulator.url)).toBe(2);
    expect((await vault.connections.tokenCap(connection.id))?.minted).toBe(2);
    const history = await vault.connections.history(connection.id);
    expect(history.map((h) => `${h.kind}:${h.outcome}`)).toEqual(['forced:unchanged', 'forced:success']);
  });

  it('min_validity above a device-grant token’s whole lifetime: the freshest token, said so, no refresh loop', async () => {
    const { emulator, vault, connection } = await setup({ accessTtl: 64_799 });
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push(await vault.connections.getFreshToken(connection.id, 86_400));
    expect(answers.every((a) => a.minValidityMet === false)).toBe(true);
    expect(new Set(answers.map((a) => a.accessToken)).size).toBe(1);
    expect(await refreshGrants(emulator.url)).toBe(0);
    expect((await vault.connections.tokenCap(connection.id))?.minted).toBe(1);
    expect(await vault.connections.history(connection.id)).toEqual([]);
  });
});
