/**
 * A caller asking for more validity than Webex grants (a device grant's 18 h asked for `min_validity=86400`) gets the
 * freshest token and `minValidityMet: false`, never a refresh per request: against the real emulator with one-hour
 * tokens, 50 requests for a day's validity mint at most one token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { connectFromEmulator, refreshGrants, testSeed } from './emulator-grant.js';
import { TEST_KEY, tempDir, testConfig } from './helpers.js';

let emulator: RunningEmulator;
const dir = tempDir();
beforeAll(async () => {
  emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com', accessTtl: 3600 });
});
afterAll(async () => {
  await emulator?.close();
  dir.cleanup();
});

describe('min_validity above a token’s whole lifetime', () => {
  it('answers the freshest token and says so, without a refresh per request', async () => {
    const vault = await openVault(testConfig({ WEBEX_AUTH_DB: `${dir.dir}/v.db`, WEBEX_AUTH_KEYS: TEST_KEY }));
    const connection = await connectFromEmulator(vault, emulator.apiBase);
    const before = await refreshGrants(emulator.url);
    const answers = [];
    for (let i = 0; i < 50; i++) answers.push(await vault.connections.getFreshToken(connection.id, 86_400));
    expect((await refreshGrants(emulator.url)) - before).toBeLessThanOrEqual(1);
    expect(answers.every((a) => a.minValidityMet === false)).toBe(true);
    expect(new Set(answers.map((a) => a.accessToken)).size).toBeLessThanOrEqual(2);
    // A request the token can meet still says so.
    expect((await vault.connections.getFreshToken(connection.id, 60)).minValidityMet).toBe(true);
    await vault.close();
  });
});
