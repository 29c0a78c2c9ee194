/**
 * The error brand (src/errors.ts): errors are recognised by a registered symbol and a code, so two copies of the
 * module — as the `webex-auth token` bundle and the rest of the CLI each hold — recognise each other's errors, and a
 * lazily loaded part that shares no module (vault/identity-calls.ts) is recognised too.
 */
import { describe, expect, it, vi } from 'vitest';

type ErrorsModule = typeof import('../../src/errors.js');
type WebexAuthErrorFamily = import('../../src/errors.js').WebexAuthErrorFamily;

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
    const fromA = new a.WebexAuthError('vault', 'not_found', 'No such connection.');
    const fromB = new b.WebexAuthError('vault', 'rate_limited', 'Too soon.');
    expect(fromA instanceof b.WebexAuthError).toBe(false);

    expect(b.isWebexAuthError(fromA)).toBe(true);
    expect(b.isWebexAuthError(fromA, 'not_found')).toBe(true);
    expect(b.isWebexAuthError(fromA, 'rate_limited')).toBe(false);
    expect(a.isWebexAuthError(fromB, 'rate_limited')).toBe(true);
    expect(a.WEBEX_AUTH_ERROR).toBe(b.WEBEX_AUTH_ERROR);
    // By family, across copies too.
    expect(b.isWebexAuthError(fromA, { family: 'vault' })).toBe(true);
    expect(b.isWebexAuthError(fromA, { family: 'vault', code: 'not_found' })).toBe(true);
    expect(b.isWebexAuthError(fromA, { family: 'oauth', code: 'not_found' })).toBe(false);
    expect(b.isWebexAuthError(fromA, { family: 'vault', code: 'rate_limited' })).toBe(false);
    expect(fromA.family).toBe('vault');
  });

  it("tells the OAuth client's errors from the vault's by family where their codes overlap", async () => {
    const errors = await freshCopy<ErrorsModule>('../../src/errors.js');
    const oauth = await freshCopy<typeof import('../../src/oauth/errors.js')>('../../src/oauth/errors.js');
    const vault = await freshCopy<typeof import('../../src/vault/types.js')>('../../src/vault/types.js');
    for (const code of ['rate_limited', 'invalid_request'] as const) {
      const fromWebex = new oauth.WebexOAuthError({ code, status: code === 'rate_limited' ? 429 : 400 });
      const fromVault = new vault.VaultError(code, 'Refused.');
      // The bare code matches both: it is the family that tells them apart.
      expect(errors.isWebexAuthError(fromWebex, code)).toBe(true);
      expect(errors.isWebexAuthError(fromVault, code)).toBe(true);
      expect(errors.isWebexAuthError(fromWebex, { family: 'oauth', code })).toBe(true);
      expect(errors.isWebexAuthError(fromWebex, { family: 'vault', code })).toBe(false);
      expect(errors.isWebexAuthError(fromVault, { family: 'vault', code })).toBe(true);
      expect(errors.isWebexAuthError(fromVault, { family: 'oauth', code })).toBe(false);
    }
  });

  it('recognises the classes that carry the brand without importing errors.ts, each in its family', async () => {
    const errors = await freshCopy<ErrorsModule>('../../src/errors.js');
    const oauthA = await freshCopy<typeof import('../../src/oauth/errors.js')>('../../src/oauth/errors.js');
    const oauthB = await freshCopy<typeof import('../../src/oauth/errors.js')>('../../src/oauth/errors.js');
    const webex = await freshCopy<typeof import('../../src/webex/errors.js')>('../../src/webex/errors.js');
    const address = await freshCopy<typeof import('../../src/vault/webhook-address.js')>(
      '../../src/vault/webhook-address.js',
    );
    expect(oauthA.WebexOAuthError).not.toBe(oauthB.WebexOAuthError);
    const cases: [unknown, { family: WebexAuthErrorFamily; code: string }][] = [
      [new oauthA.WebexOAuthError({ code: 'invalid_grant', status: 400 }), { family: 'oauth', code: 'invalid_grant' }],
      [new oauthB.StateMismatchError('x'), { family: 'authorization', code: 'state_mismatch' }],
      [new oauthA.CallbackError('x'), { family: 'authorization', code: 'invalid_callback' }],
      [new oauthB.IdTokenError('x'), { family: 'authorization', code: 'invalid_id_token' }],
      [new oauthA.ScopeError('x'), { family: 'authorization', code: 'invalid_scope_request' }],
      [
        new webex.WebexApiError({ method: 'GET', path: '/people/me', status: 404 }),
        { family: 'webex', code: 'api_error' },
      ],
      [new address.RefusedAddressError('10.0.0.1 is private.'), { family: 'vault', code: 'refused_address' }],
    ];
    for (const [error, match] of cases) {
      expect(errors.isWebexAuthError(error, match)).toBe(true);
      expect(errors.isWebexAuthError(error, { family: match.family === 'vault' ? 'oauth' : 'vault' })).toBe(false);
      expect(errors.isWebexAuthError(error, { ...match, code: 'other' })).toBe(false);
    }
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
    expect(
      isWebexAuthError(new IdentityCallError('forbidden', 'Refused.'), { family: 'vault', code: 'forbidden' }),
    ).toBe(true);
  });

  it("explains the OAuth and REST clients' errors by brand, from any copy, never a look-alike by name", async () => {
    const { explainOAuthError } =
      await freshCopy<typeof import('../../src/oauth/explain.js')>('../../src/oauth/explain.js');
    const oauth = await freshCopy<typeof import('../../src/oauth/errors.js')>('../../src/oauth/errors.js');
    const webex = await freshCopy<typeof import('../../src/webex/errors.js')>('../../src/webex/errors.js');
    expect(explainOAuthError(new oauth.StateMismatchError('x')).title).toBe('Authorization could not be matched');
    expect(explainOAuthError(new oauth.CallbackError('no code')).title).toBe('Malformed authorization answer');
    expect(explainOAuthError(new oauth.ScopeError('bad')).title).toBe('Invalid scope list');
    expect(explainOAuthError(new oauth.WebexOAuthError({ code: 'access_denied', status: 400 })).title).toBe(
      'Authorization declined',
    );
    expect(explainOAuthError(new webex.WebexApiError({ method: 'GET', path: '/rooms', status: 429 })).title).toBe(
      'Rate limited',
    );
    for (const name of ['StateMismatchError', 'CallbackError', 'WebexOAuthError', 'WebexApiError']) {
      const lookAlike = Object.assign(new Error('x'), { name, code: 'access_denied', status: 429 });
      expect(explainOAuthError(lookAlike).title).toBe('Unexpected error');
    }
  });

  it('refuses look-alikes: a name, a code without the brand, a brand without a code, non-errors', async () => {
    const { isWebexAuthError } = await freshCopy<ErrorsModule>('../../src/errors.js');
    const named = Object.assign(new Error('x'), { name: 'VaultError', code: 'not_found' });
    expect(isWebexAuthError(named)).toBe(false);
    expect(isWebexAuthError({ code: 'not_found' })).toBe(false);
    const noCode = new Error('x');
    Object.defineProperty(noCode, Symbol.for('webex-auth.error'), { value: true });
    expect(isWebexAuthError(noCode)).toBe(false);
    // A brand that names no family (an older copy's `true`, or anything else) is no brand.
    for (const value of [true, 'nobody', 1]) {
      const odd = Object.assign(new Error('x'), { code: 'not_found', [Symbol.for('webex-auth.error')]: value });
      expect(isWebexAuthError(odd)).toBe(false);
    }
    for (const v of [undefined, null, 'VaultError', 42]) expect(isWebexAuthError(v)).toBe(false);
  });
});
