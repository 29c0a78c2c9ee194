/**
 * The token route's logging (the broker's hot path): no per-request lines at `info`, every line at `debug`, and its
 * errors logged at any level with the request id — while the lazily made request logger still redacts secrets.
 */

import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { brokerRoutes } from '../../src/server/routes/api/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { TEST_KEY, tempDir, testConfig, tokenSet } from '../vault/helpers.js';

describe('token route logging', () => {
  const closers: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    closers.length = 0;
  });

  async function broker(level: string) {
    const t = tempDir();
    closers.push(t.cleanup);
    const config = testConfig({ WEBEX_AUTH_DB: join(t.dir, 'v.db'), WEBEX_AUTH_KEYS: TEST_KEY });
    const vault: VaultInternals = await openVault(config);
    closers.push(() => vault.close());
    const integ = await vault.integrations.upsert({
      clientId: 'C1',
      clientSecret: 'CLIENT-SECRET',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      apiBase: 'https://webex.test/v1',
    });
    const connection = await vault.connections.saveFromGrant({
      integrationId: integ.id,
      tokens: tokenSet({ accessToken: 'ACCESS-CANARY', refreshToken: 'REFRESH-CANARY' }),
      person: { id: 'p1', emails: ['alice@example.com'], displayName: 'Alice' },
      requestedScopes: ['spark:all'],
    });
    const { key } = await vault.apiKeys.create({ name: 'bot', connectionIds: [connection.id] });
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const logger = createLogger({ level, destination });
    const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
    await app.register(brokerRoutes, { vault, config });
    closers.push(() => app.close());
    const token = () =>
      app.inject({
        method: 'GET',
        url: `/api/v1/connections/${connection.id}/token`,
        headers: { authorization: `Bearer ${key}` },
      });
    return { vault, connection, lines, token, list: () => app.inject({ method: 'GET', url: '/api/v1/connections' }) };
  }

  it('writes no per-request line for a served token at info, and still logs other routes', async () => {
    const b = await broker('info');
    expect((await b.token()).statusCode).toBe(200);
    expect(b.lines.filter((l) => l.reqId !== undefined)).toEqual([]);
    expect((await b.list()).statusCode).toBe(401);
    expect(b.lines.some((l) => l.msg === 'incoming request')).toBe(true);
  });

  it('writes every request line at debug, with secrets redacted', async () => {
    const b = await broker('debug');
    expect((await b.token()).statusCode).toBe(200);
    const mine = b.lines.filter((l) => l.reqId !== undefined);
    expect(mine.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
    expect(JSON.stringify(b.lines)).not.toMatch(/ACCESS-CANARY|REFRESH-CANARY|wak_/);
  });

  it('logs a failure of the token route at error, with the request id', async () => {
    const b = await broker('info');
    const row = await b.vault.store.getConnection(b.connection.id);
    if (!row) throw new Error('no row');
    // A ciphertext that the ring's own key does not open (a wrong key, or an altered value): the broker answers 500
    // vault_key and logs why. (A key the ring lacks is a 503 vault_key_unavailable: test/reliability/rotation-fleet.)
    const bad =
      'v1:test1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAA:AAAA';
    await b.vault.store.reencryptConnection(b.connection.id, row.version, Date.now(), {
      accessTokenEnc: bad,
      refreshTokenEnc: bad,
      keyId: 'test1',
    });
    const res = await b.token();
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'vault_key' });
    const errors = b.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: 'vault key error' });
    expect(errors[0]?.reqId).toBeDefined();
  });
});
