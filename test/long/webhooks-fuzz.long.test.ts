/** Full size: 50 webhook events through a receiver that is down then failing; 10,000 fuzz inputs. */
import { describe, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openVault } from '../../src/vault/index.js';
import { seedConnection } from '../reliability/connection.js';
import { webhookScenario } from '../reliability/webhooks.js';
import { fuzz } from '../security/fuzz.js';
import { startStack } from '../security/stack.js';
import { report } from './report.js';

describe('webhooks and fuzz at full size', () => {
  it('50 webhook events, receiver down then 503 → all delivered', async () => {
    report('webhooks 50', await webhookScenario(50));
  });
  it('10,000 fuzz inputs: no 5xx, no unescaped reflection', async () => {
    const stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
    try {
      const vault = await openVault(loadConfig({ env: stack.env, dotenvDir: false }));
      const id = (await seedConnection(vault, stack.emulator.apiBase, { redirectUri: stack.redirectUri })).id;
      const key = (await vault.apiKeys.create({ name: 'fuzz', connectionIds: [id] })).key;
      await vault.close();
      const r = await fuzz(stack, 10_000, key, id);
      report('fuzz 10000', { inputs: r.inputs, fiveXX: r.fiveXX, unescaped: r.unescaped });
    } finally {
      await stack.close();
    }
  });
});
