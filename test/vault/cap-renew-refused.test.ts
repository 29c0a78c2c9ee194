/**
 * The proxy's 401-driven refresh (`renewRefused`) counts as a minted token for the live-token cap, like any refresh:
 * a new token adds one to the person's live tokens; Webex answering the same token (`refreshUnchangedWithin`) adds
 * none. Against the real emulator, with the vault's clock moved past the 30 s a refused token is left alone.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { connectFromEmulator, control, refreshGrants, testSeed } from './emulator-grant.js';
import { TEST_KEY, tempDir, testConfig } from './helpers.js';

const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('a 401-driven refresh and the live-token cap', () => {
  it('a new token counts one more live token; an unchanged one does not', async () => {
    const emulator = await startEmulator({
      seed: testSeed,
      autoConsent: 'alice@example.com',
      refreshUnchangedWithin: 600,
    });
    closers.push(() => emulator.close());
    const t = tempDir();
    closers.push(t.cleanup);
    let offset = 0;
    const vault = await openVault(testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY }), {
      clock: () => Date.now() + offset,
    });
    closers.push(() => vault.close());
    const { id } = await connectFromEmulator(vault, emulator.apiBase);
    const minted = async () => (await vault.connections.tokenCap(id))?.minted;
    expect(await minted()).toBe(1);

    // Webex refuses the token (revoked): the proxy's refresh mints a new one.
    const first = (await vault.connections.revealTokens(id))?.accessToken as string;
    await control(emulator.url, 'revoke', { accessToken: first });
    const renewed = await vault.connections.renewRefused(id, first);
    expect(renewed.accessToken).not.toBe(first);
    expect(await refreshGrants(emulator.url)).toBe(1);
    expect(await minted()).toBe(2);

    // Past the 30 s a refreshed token is left alone, refused again: Webex answers the same token — no new live one.
    offset = 31_000;
    const again = await vault.connections.renewRefused(id, renewed.accessToken);
    expect(await refreshGrants(emulator.url)).toBe(2);
    expect(again.accessToken).toBe(renewed.accessToken);
    expect(await minted()).toBe(2);
    const history = await vault.connections.history(id);
    expect(history.map((h) => `${h.kind}:${h.outcome}`)).toEqual(['proxy:unchanged', 'proxy:success']);
  });
});
