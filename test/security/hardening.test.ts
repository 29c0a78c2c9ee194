/**
 * Rows 10 and 11 of the keys-and-hardening issue: the callback shows Webex's error_description only for an answer to
 * a flow this browser started; production refuses a plain-http API base off loopback and a short ADMIN_TOKEN; the
 * router's own 400/414 answers carry the security headers; a new SQLite store file is 0600.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { openSqliteStore } from '../../src/vault/store/sqlite.js';
import { Browser, testApp, testConfig } from '../server/support/app.js';
import { tempDir } from '../vault/helpers.js';

const PROD = {
  NODE_ENV: 'production',
  WEBEX_AUTH_MODE: 'team',
  ALLOWED_EMAIL_DOMAINS: 'example.com',
  WEBEX_CLIENT_ID: 'C0ffee',
  WEBEX_CLIENT_SECRET: 'secret-secret-secret',
  WEBEX_AUTH_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  ADMIN_TOKEN: 'a'.repeat(32),
};

describe('row 10: a planted callback cannot print its own text on our origin', () => {
  it('shows a fixed text for an error callback whose state matches no flow of this browser', async () => {
    const { app } = await testApp();
    const planted = 'Your account is locked. Call +1 555 0100 at evil.example to unlock it';
    for (const state of ['', 'forged-state', 'x'.repeat(40)]) {
      const res = await app.inject({
        url: `/oauth?${new URLSearchParams({ error: 'access_denied', error_description: planted, state })}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain('evil.example');
      expect(res.body).not.toContain('555');
    }
    await app.close();
  });

  it('still explains Webex’s own answer to a flow this browser started', async () => {
    const { app } = await testApp({ WEBEX_CLIENT_ID: 'C0ffee', WEBEX_CLIENT_SECRET: 'secret-secret-secret' });
    const b = new Browser(app);
    await b.get('/');
    const start = await b.post('/oauth/start', { scope: 'spark:people_read' });
    const state = new URL(String(start.headers.location)).searchParams.get('state') as string;
    const res = await b.get(
      `/oauth?${new URLSearchParams({ error: 'access_denied', error_description: 'The user declined', state })}`,
    );
    expect(res.body).toContain('The user declined');
    await app.close();
  });
});

describe('row 11: production settings and the router’s own answers', () => {
  it('refuses a plain-http API base off loopback in production, keeps the emulator’s loopback one', () => {
    expect(() => testConfig({ ...PROD, WEBEX_API_BASE: 'http://webexapis.example.com/v1' })).toThrow(ConfigError);
    expect(() => testConfig({ ...PROD, WEBEX_API_BASE: 'http://10.0.0.5:9000/v1' })).toThrow(/https in production/);
    expect(testConfig({ ...PROD, WEBEX_API_BASE: 'http://127.0.0.1:9000/v1' }).apiBase).toBe(
      'http://127.0.0.1:9000/v1',
    );
    expect(testConfig({ ...PROD, WEBEX_API_BASE: 'http://[::1]:9000/v1' }).apiBase).toBe('http://[::1]:9000/v1');
    expect(testConfig({ WEBEX_API_BASE: 'http://10.0.0.5:9000/v1' }).apiBase).toBe('http://10.0.0.5:9000/v1');
  });

  it('refuses a 16-character ADMIN_TOKEN in production', () => {
    expect(() => testConfig({ ...PROD, ADMIN_TOKEN: 'a'.repeat(16) })).toThrow(/at least 32 characters/);
  });

  it('puts the security headers on the router’s 400 and 414 answers', async () => {
    const { app } = await testApp();
    for (const url of [
      `/connections/${'a'.repeat(300)}`,
      '/%E0%A4%A',
      `/api/v1/connections/${'a'.repeat(300)}/token`,
    ]) {
      const res = await app.inject({ url });
      expect([400, 404, 414]).toContain(res.statusCode);
      expect(res.headers['content-security-policy'], url).toContain("default-src 'none'");
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['cache-control'], url).toBe('no-store');
    }
    await app.close();
  });

  it('creates the SQLite store 0600', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'sub', 'webex-auth.db');
    const store = await openSqliteStore(path);
    await store.migrate();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700);
    await store.close();
    cleanup();
  });
});
