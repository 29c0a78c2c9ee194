import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const load = (env: Record<string, string>, overrides = {}) => loadConfig({ env, overrides, dotenvDir: false });

describe('loadConfig', () => {
  it('gives the design defaults and demo mode without credentials', () => {
    const c = load({ HOME: '/home/u' });
    expect(c).toMatchObject({
      mode: 'demo',
      redirectUri: 'http://localhost:8080/oauth',
      apiBase: 'https://webexapis.com/v1',
      port: 8080,
      host: '127.0.0.1',
      keepaliveDays: 30,
      dbPath: join('/home/u', '.local', 'share', 'webex-auth', 'webex-auth.db'),
      keychain: true,
    });
    expect(load({ WEBEX_AUTH_KEYCHAIN: 'off' }).keychain).toBe(false);
  });

  it('uses XDG_DATA_HOME for the database', () => {
    expect(load({ XDG_DATA_HOME: '/x' }).dbPath).toBe(join('/x', 'webex-auth', 'webex-auth.db'));
  });

  it('accepts the Webex sample names as aliases, and ours win', () => {
    const c = load({ CLIENT_ID: 'Cabc', CLIENT_SECRET: 's', SCOPES: 'spark:all', WEBEX_CLIENT_ID: 'Cours' });
    expect(c.clientId).toBe('Cours');
    expect(c.scopes).toEqual(['spark:all']);
    expect(c.mode).toBe('webex');
  });

  it('recognises FedRAMP and custom bases', () => {
    expect(
      load({ WEBEX_CLIENT_ID: 'C', WEBEX_CLIENT_SECRET: 's', WEBEX_API_BASE: 'https://api-usgov.webex.com/v1' }).mode,
    ).toBe('fedramp');
    expect(
      load({ WEBEX_CLIENT_ID: 'C', WEBEX_CLIENT_SECRET: 's', WEBEX_API_BASE: 'http://127.0.0.1:9/v1/' }),
    ).toMatchObject({
      mode: 'custom',
      apiBase: 'http://127.0.0.1:9/v1',
    });
  });

  it('flags win over the environment', () => {
    expect(load({ PORT: '1234' }, { PORT: '4321' }).port).toBe(4321);
  });

  it.each([
    [{ PORT: 'abc' }, /^Invalid setting PORT: .*\(got "abc"\)$/],
    [{ PORT: '70000' }, /^Invalid setting PORT: expected a port number from 0 to 65535 \(got "70000"\)$/],
    [{ KEEPALIVE_DAYS: '90' }, /^Invalid setting KEEPALIVE_DAYS: expected a number of days from 1 to 89/],
    [
      { LOG_LEVEL: 'loud' },
      /^Invalid setting LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent/,
    ],
    [{ WEBEX_REDIRECT_URI: 'localhost:8080/oauth' }, /^Invalid setting WEBEX_REDIRECT_URI: expected an http\(s\) URL/],
    [{ WEBEX_SCOPES: 'spark:all,openid' }, /^Invalid setting WEBEX_SCOPES: expected space-separated/],
    [{ DATABASE_URL: 'mysql://x' }, /^Invalid setting DATABASE_URL: expected a postgres/],
    [{ WEBEX_AUTH_KEYCHAIN: 'no' }, /^Invalid setting WEBEX_AUTH_KEYCHAIN: expected one of auto, off \(got "no"\)$/],
    [{ WEBEX_CLIENT_ID: 'C' }, /^Invalid setting WEBEX_CLIENT_SECRET: required/],
    [{ NODE_ENV: 'production' }, /^Invalid setting WEBEX_AUTH_KEYS: required when NODE_ENV=production$/],
  ])('rejects %j with one clear line', (env, message) => {
    const error = (() => {
      try {
        load(env);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('never echoes a secret-bearing value in the error', () => {
    expect(() => load({ WEBEX_AUTH_KEYS: 'supersecretvalue' })).toThrow(
      /^Invalid setting WEBEX_AUTH_KEYS: expected a key ring/,
    );
    expect(() => load({ WEBEX_AUTH_KEYS: 'supersecretvalue' })).not.toThrow(/supersecretvalue/);
    // A URL may carry credentials.
    expect(() => load({ DATABASE_URL: 'postgress://u:hunter2@db/x' })).toThrow(/^Invalid setting DATABASE_URL/);
    expect(() => load({ DATABASE_URL: 'postgress://u:hunter2@db/x' })).not.toThrow(/hunter2/);
  });

  it('reads numbers as JavaScript does, and uses secrets exactly as written', () => {
    expect(load({ PORT: '0x1F90', KEEPALIVE_DAYS: '1.5' })).toMatchObject({ port: 8080, keepaliveDays: 1.5 });
    expect(() => load({ PORT: '80.5' })).toThrow(/^Invalid setting PORT/);
    const secret = ' sixteen-chars-secret ';
    expect(load({ ADMIN_TOKEN: secret, WEBHOOK_SECRET: secret }).adminToken).toBe(secret);
    expect(load({ WEBEX_CLIENT_ID: ' C1 ', WEBEX_CLIENT_SECRET: ' s ' })).toMatchObject({
      clientId: 'C1',
      clientSecret: 's',
    });
  });

  it('an empty value in the environment unsets what .env sets, as with dotenv', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-env-'));
    writeFileSync(join(dir, '.env'), 'WEBEX_CLIENT_ID=Cfile\nWEBEX_CLIENT_SECRET=s\nDATABASE_URL=postgres://db/x\n');
    const c = loadConfig({ env: { WEBEX_CLIENT_ID: '', DATABASE_URL: ' ' }, dotenvDir: dir });
    expect(c).toMatchObject({ clientId: undefined, databaseUrl: undefined, mode: 'demo' });
  });

  it('reads .env, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-env-'));
    writeFileSync(join(dir, '.env'), 'WEBEX_CLIENT_ID=Cfile\nWEBEX_CLIENT_SECRET=fromfile\nPORT=9000\n');
    const c = loadConfig({ env: { PORT: '9001' }, dotenvDir: dir });
    expect(c).toMatchObject({ clientId: 'Cfile', clientSecret: 'fromfile', port: 9001 });
  });
});
