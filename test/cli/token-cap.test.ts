/**
 * `webex-auth refresh` near Webex's live-token cap: refused with the vault's explanation, exit 1, audited; `status`
 * shows the count and the refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/vault.js';
import { connectFromEmulator, refreshGrants, testSeed } from '../vault/emulator-grant.js';
import { isolatedEnv, runInProcess } from './helpers.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ seed: testSeed, autoConsent: 'alice@example.com' });
});
afterAll(async () => {
  await emulator?.close();
});

describe('webex-auth refresh at the token cap', () => {
  it('is refused with the reason, exits 1 and is audited; status says so', async () => {
    const env = isolatedEnv({ WEBEX_TOKEN_CAP: '3', FORCED_REFRESH_MIN_INTERVAL: '0' });
    const vault = await openVault(loadConfig({ env, dotenvDir: false }));
    try {
      await connectFromEmulator(vault, emulator.apiBase);
    } finally {
      await vault.close();
    }
    const before = await refreshGrants(emulator.url);
    // The grant's token (33 %), then two refreshes (66 %, 100 %): at or above 90 % of 3, the next one is refused.
    expect((await runInProcess(['refresh'], { env })).code).toBe(0);
    expect((await runInProcess(['refresh'], { env })).code).toBe(0);
    const refused = await runInProcess(['refresh'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("holds 3 of Webex's 3 live access tokens");
    expect((await refreshGrants(emulator.url)) - before).toBe(2);
    const audit = await runInProcess(['audit', '--json'], { env });
    expect(audit.stdout).toContain('"refresh.refused"');
    const status = await runInProcess(['status'], { env });
    expect(status.stdout).toContain('3 of 3 live access tokens (100 %');
    expect(status.stdout).toContain('forced refreshes refused at 90 %');
  });
});
