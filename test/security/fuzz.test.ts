/**
 * fast-check throws 1,000 random inputs at the callback of a real `serve` process, its broker token API and the
 * real emulator: 0 responses 5xx, 0 markers reflected unescaped. 10,000 in test/long/fuzz.long.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openVault } from '../../src/vault/index.js';
import { seedConnection } from '../reliability/connection.js';
import { fuzz } from './fuzz.js';
import { type Stack, startStack } from './stack.js';

let stack: Stack;
let key: string;
let id: string;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
  const vault = await openVault(loadConfig({ env: stack.env, dotenvDir: false }));
  id = (await seedConnection(vault, stack.emulator.apiBase, { redirectUri: stack.redirectUri })).id;
  key = (await vault.apiKeys.create({ name: 'fuzz', connectionIds: [id] })).key;
  await vault.close();
});
afterAll(async () => {
  await stack?.close();
});

describe('fuzzing the callback, the token API and the emulator', () => {
  it('1,000 random inputs: no 5xx, no unescaped reflection', async () => {
    const r = await fuzz(stack, 1000, key, id);
    expect(r.inputs).toBe(1000);
  });
});
