/**
 * A signed-in account may hold at most MAX_KEYS_PER_OWNER active API keys (the keys page reads every key of an owner;
 * a member must not grow them without end); revoking one makes room; the local operator (CLI, load tests) is not bounded.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_KEYS_PER_OWNER } from '../../src/vault/api-keys.js';
import { LOCAL_OPERATOR, openVault } from '../../src/vault/index.js';
import { TEST_INTEGRATION, TEST_KEY, tempDir, testConfig, tokenSet } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('API keys per owner', () => {
  it('refuses an account’s key beyond the bound, makes room on revoke, and never bounds the local operator', async () => {
    const vault = await openVault(testConfig({ WEBEX_AUTH_DB: `${dir.dir}/v.db`, WEBEX_AUTH_KEYS: TEST_KEY }));
    const integration = await vault.integrations.upsert(TEST_INTEGRATION);
    const save = (ownerId: string) =>
      vault.connections.saveFromGrant({
        ownerId,
        integrationId: integration.id,
        tokens: tokenSet({ accessToken: `A-${ownerId}`, refreshToken: `R-${ownerId}` }, Date.now()),
        person: { id: `p-${ownerId}`, emails: [`${ownerId}@example.com`], displayName: ownerId },
        requestedScopes: ['spark:all'],
      });
    const mine = await save('acct_member');
    const local = await save(LOCAL_OPERATOR);
    const made = [];
    for (let i = 0; i < MAX_KEYS_PER_OWNER; i++) {
      made.push(await vault.apiKeys.create({ name: `k${i}`, connectionIds: [mine.id], ownerId: 'acct_member' }));
    }
    await expect(
      vault.apiKeys.create({ name: 'one too many', connectionIds: [mine.id], ownerId: 'acct_member' }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
    expect(await vault.apiKeys.revoke(made[0]?.record.id as string)).toBe(true);
    await expect(
      vault.apiKeys.create({ name: 'after a revoke', connectionIds: [mine.id], ownerId: 'acct_member' }),
    ).resolves.toBeDefined();
    for (let i = 0; i <= MAX_KEYS_PER_OWNER; i++) {
      await vault.apiKeys.create({ name: `local${i}`, connectionIds: [local.id] });
    }
    expect((await vault.apiKeys.list(LOCAL_OPERATOR)).length).toBe(MAX_KEYS_PER_OWNER + 1);
    await vault.close();
  });
});
