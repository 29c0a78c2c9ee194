/**
 * The error brand (src/errors.ts): errors are recognised by a registered symbol and a code, so two copies of the
 * module — as the `webex-auth token` bundle and the rest of the CLI each hold — recognise each other's errors, and a
 * lazily loaded part that shares no module (vault/identity-calls.ts) is recognised too.
 */
import { describe, expect, it, vi } from 'vitest';

type ErrorsModule = typeof import('../../src/errors.js');

/** A fresh, separately evaluated copy of src/errors.ts (and of whatever imports it, when `path` is another module). */
async function freshCopy<T>(path: string): Promise<T> {
  vi.resetModules();
  return (await import(path)) as T;
}

describe('isWebexAuthError', () => {
  it('recognises errors made by another copy of the module, by brand and code', async () => {
    const a = await freshCopy<ErrorsModule>('../../src/errors.js');
    const b = await freshCopy<ErrorsModule>('../../src/errors.js');
    // Two copies indeed: the classes differ, so instanceof cannot tell.
    expect(a.WebexAuthError).not.toBe(b.WebexAuthError);
    const fromA = new a.WebexAuthError('not_found', 'No such connection.');
    const fromB = new b.WebexAuthError('rate_limited', 'Too soon.');
    expect(fromA instanceof b.WebexAuthError).toBe(false);

    expect(b.isWebexAuthError(fromA)).toBe(true);
    expect(b.isWebexAuthError(fromA, 'not_found')).toBe(true);
    expect(b.isWebexAuthError(fromA, 'rate_limited')).toBe(false);
    expect(a.isWebexAuthError(fromB, 'rate_limited')).toBe(true);
    expect(a.WEBEX_AUTH_ERROR).toBe(b.WEBEX_AUTH_ERROR);
  });

  it("recognises the vault's, the configuration's and the CLI's errors across copies of their modules", async () => {
    const vaultA = await freshCopy<typeof import('../../src/vault/types.js')>('../../src/vault/types.js');
    const capA = await freshCopy<typeof import('../../src/vault/cap.js')>('../../src/vault/cap.js');
    const errorsB = await freshCopy<ErrorsModule>('../../src/errors.js');
    const capB = await freshCopy<typeof import('../../src/vault/cap.js')>('../../src/vault/cap.js');
    const config = await freshCopy<typeof import('../../src/config.js')>('../../src/config.js');
    const cli = await freshCopy<typeof import('../../src/cli/io.js')>('../../src/cli/io.js');

    const vaultError = new vaultA.VaultError('needs_reauth', 'Authorize again.');
    expect(errorsB.isWebexAuthError(vaultError, 'needs_reauth')).toBe(true);
    expect(errorsB.isWebexAuthError(new vaultA.VaultKeyError('no key'), 'vault_key')).toBe(true);
    expect(errorsB.isWebexAuthError(new config.ConfigError('bad', 'PORT'), 'invalid_config')).toBe(true);
    expect(errorsB.isWebexAuthError(new cli.CliError('bad', 2), 'cli_failed')).toBe(true);

    const status = { cap: 750, minted: 700, used: 700, percent: 93, warning: true, refusing: true, refuseAt: 90 };
    const capError = new capA.TokenCapError(status as never, 60);
    expect(capB.TokenCapError).not.toBe(capA.TokenCapError);
    expect(capB.isTokenCapError(capError)).toBe(true);
    expect(errorsB.isWebexAuthError(capError, 'rate_limited')).toBe(true);
    // A plain rate-limited vault error is not a cap refusal.
    expect(capB.isTokenCapError(new vaultA.VaultError('rate_limited', 'Too soon.', 5))).toBe(false);
  });

  it('recognises an error branded by hand with the registered symbol (a module that imports nothing)', async () => {
    const { isWebexAuthError } = await freshCopy<ErrorsModule>('../../src/errors.js');
    const { IdentityCallError } = await freshCopy<typeof import('../../src/vault/identity-calls.js')>(
      '../../src/vault/identity-calls.js',
    );
    expect(isWebexAuthError(new IdentityCallError('forbidden', 'Refused.'), 'forbidden')).toBe(true);
  });

  it('refuses look-alikes: a name, a code without the brand, a brand without a code, non-errors', async () => {
    const { isWebexAuthError } = await freshCopy<ErrorsModule>('../../src/errors.js');
    const named = Object.assign(new Error('x'), { name: 'VaultError', code: 'not_found' });
    expect(isWebexAuthError(named)).toBe(false);
    expect(isWebexAuthError({ code: 'not_found' })).toBe(false);
    const noCode = new Error('x');
    Object.defineProperty(noCode, Symbol.for('webex-auth.error'), { value: true });
    expect(isWebexAuthError(noCode)).toBe(false);
    for (const v of [undefined, null, 'VaultError', 42]) expect(isWebexAuthError(v)).toBe(false);
  });
});
