/**
 * Revocation and reconciliation against the real emulator, on SQLite and PostgreSQL: a grant deleted through Webex's
 * admin API is marked `needs_reauth` (`revoked_at_webex`) by the next reconcile, with `connection.revoked`, and the
 * token API answers 409 naming the reason from then on; "Revoke at Webex" deletes the grant at the emulator through an
 * admin connection of the org, or says exactly what is missing; a grant gone without an admin listing is
 * `refresh_refused`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { brokerRoutes } from '../../src/server/routes/api/index.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { ADMIN_INTEGRATION, ADMIN_IT, ADMIN_SCOPES, ADMIN_SEED } from '../emulator/admin-seed.js';
import { control, tokenWorks } from './emulator-grant.js';
import { dropSchema, freshSchema, PG_URL, postgresAvailable, TEST_KEY, tempDir, testConfig } from './helpers.js';
import { connectPerson, eventTypes, until, webhookReceiver } from './lifecycle-support.js';

const pgUp = await postgresAvailable();
const integration = ADMIN_INTEGRATION;

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ seed: ADMIN_SEED });
});
afterAll(async () => {
  await emulator?.close();
});

/** The person's grants of the admin tool's client at the emulator, listed with an admin token. */
async function grantsAtEmulator(adminToken: string, personId: string) {
  const res = await fetch(`${emulator.apiBase}/authorizations?${new URLSearchParams({ personId })}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  expect(res.status).toBe(200);
  const { items } = (await res.json()) as { items: Array<{ id: string; clientId: string; type: string }> };
  return items.filter((i) => i.clientId === ADMIN_IT.clientId && i.type === 'refresh');
}

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
])('reconcile and revoke (%s)', (_name, postgres) => {
  const closers: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await control(emulator.url, 'reset', {});
  });

  async function open(): Promise<{ vault: VaultInternals; hooks: Awaited<ReturnType<typeof webhookReceiver>> }> {
    const hooks = await webhookReceiver();
    closers.push(hooks.close);
    const env = { WEBEX_AUTH_KEYS: TEST_KEY, WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: 'w'.repeat(32) };
    let vault: VaultInternals;
    if (postgres) {
      const schema = freshSchema('reconcile');
      closers.push(() => dropSchema(schema));
      vault = await openVault(testConfig({ ...env, DATABASE_URL: PG_URL }), { schema, webhookBaseDelayMs: 1 });
    } else {
      const t = tempDir();
      closers.push(t.cleanup);
      vault = await openVault(testConfig({ ...env, WEBEX_AUTH_DB: join(t.dir, 'v.db') }), { webhookBaseDelayMs: 1 });
    }
    closers.push(() => vault.close());
    return { vault, hooks };
  }

  it.skipIf(postgres && !pgUp)(
    'a grant deleted through the admin API is revoked_at_webex at the next reconcile; the token API answers 409',
    async () => {
      const { vault, hooks } = await open();
      const admin = await connectPerson(vault, emulator, integration, 'admin-a@a.example', ADMIN_SCOPES);
      const carol = await connectPerson(vault, emulator, integration, 'carol@a.example', ['spark:people_read']);
      const { key } = await vault.apiKeys.create({ name: 'bot', connectionIds: [carol.id] });
      const app = Fastify();
      closers.push(() => app.close());
      await app.register(brokerRoutes, { vault, config: { keepaliveDays: 30 } as never });
      const tokenOf = () =>
        app.inject({ url: `/api/v1/connections/${carol.id}/token`, headers: { authorization: `Bearer ${key}` } });

      // Nothing is revoked yet; Webex's own count of Carol's tokens is cached on the way.
      const first = await vault.reconcile();
      expect(first).toMatchObject({ ran: true, checked: 2, revoked: [] });
      expect((await vault.connections.tokenCap(carol.id))?.webex?.accessTokens).toBe(1);
      expect((await tokenOf()).statusCode).toBe(200);

      // An admin deletes Carol's grant at Webex.
      const adminToken = (await vault.connections.getFreshToken(admin.id)).accessToken;
      const [grant] = await grantsAtEmulator(adminToken, carol.personId);
      const del = await fetch(`${emulator.apiBase}/authorizations/${grant?.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(del.status).toBe(204);

      const second = await vault.reconcile();
      expect(second.revoked).toEqual([{ connectionId: carol.id, reason: 'revoked_at_webex' }]);
      expect(await vault.connections.get(carol.id)).toMatchObject({
        status: 'needs_reauth',
        needsReauthReason: 'revoked_at_webex',
      });
      expect((await vault.connections.get(admin.id))?.status).toBe('active');
      const answer = await tokenOf();
      expect(answer.statusCode).toBe(409);
      expect(answer.json()).toMatchObject({ code: 'needs_reauth' });
      expect(answer.body).toContain('revoked_at_webex');
      await vault.drainWebhooks();
      await until(() => eventTypes(hooks.bodies, carol.id).includes('connection.revoked'), 'connection.revoked');
      // A third reconcile finds nothing new: one event per revocation.
      expect((await vault.reconcile()).revoked).toEqual([]);
      await vault.drainWebhooks();
      expect(eventTypes(hooks.bodies, carol.id).filter((e) => e === 'connection.revoked')).toHaveLength(1);
    },
    60_000,
  );

  it.skipIf(postgres && !pgUp)(
    'Revoke at Webex deletes the grant at the emulator through the org admin',
    async () => {
      const { vault, hooks } = await open();
      const carol = await connectPerson(vault, emulator, integration, 'carol@a.example', ['spark:people_read']);
      // Without an admin connection of Carol's org, it says exactly what is missing.
      const missing = await vault.connections.revokeAtWebex(carol.id).catch((e: unknown) => e);
      expect(missing).toMatchObject({ code: 'conflict' });
      expect((missing as Error).message).toContain(
        'No admin connection with identity:tokens_read and identity:tokens_write',
      );
      expect((missing as Error).message).toContain(carol.orgId as string);
      // An admin of another org cannot help either.
      await connectPerson(vault, emulator, integration, 'admin-b@b.example', ADMIN_SCOPES);
      await expect(vault.connections.revokeAtWebex(carol.id)).rejects.toMatchObject({ code: 'conflict' });

      const admin = await connectPerson(vault, emulator, integration, 'admin-a@a.example', ADMIN_SCOPES);
      const carolToken = (await vault.connections.revealTokens(carol.id))?.accessToken as string;
      expect(await tokenWorks(emulator.apiBase, carolToken)).toBe(true);
      expect(await vault.connections.revokeAtWebex(carol.id)).toEqual({ deleted: 1 });
      const adminToken = (await vault.connections.getFreshToken(admin.id)).accessToken;
      expect(await grantsAtEmulator(adminToken, carol.personId)).toEqual([]);
      expect(await tokenWorks(emulator.apiBase, carolToken)).toBe(false);
      expect(await vault.connections.get(carol.id)).toMatchObject({
        status: 'needs_reauth',
        needsReauthReason: 'revoked_at_webex',
      });
      await vault.drainWebhooks();
      await until(() => eventTypes(hooks.bodies, carol.id).includes('connection.revoked'), 'connection.revoked');
    },
    60_000,
  );

  it.skipIf(postgres && !pgUp)('two instances on one store: one reconciles, the other stands aside', async () => {
    const { vault } = await open();
    await connectPerson(vault, emulator, integration, 'carol@a.example', ['spark:people_read']);
    const store = vault.store;
    const other = await openVault(testConfig({ WEBEX_AUTH_KEYS: TEST_KEY }), { store, instanceId: 'other' });
    closers.push(() => other.close());
    // Deterministic, not a race: while the other instance holds the reconcile lease (as during its run), this one
    // stands aside; once it is released, this one runs.
    const now = Date.now();
    expect(await store.acquireNamedLease('reconcile', 'other', now + 60_000, now)).toBe(true);
    expect(await vault.reconcile()).toMatchObject({ ran: false, checked: 0 });
    await store.releaseNamedLease('reconcile', 'other');
    expect(await vault.reconcile()).toMatchObject({ ran: true, checked: 1 });
    expect(await other.reconcile()).toMatchObject({ ran: true });
  });

  it.skipIf(postgres && !pgUp)(
    'without an admin connection, a refused refresh is refresh_refused',
    async () => {
      const { vault, hooks } = await open();
      const carol = await connectPerson(vault, emulator, integration, 'carol@a.example', ['spark:people_read']);
      // Carol's grant ends at Webex (the emulator's control API), and no admin connection can say why.
      await control(emulator.url, 'revoke', { email: 'carol@a.example' });
      const result = await vault.reconcile();
      expect(result.revoked).toEqual([{ connectionId: carol.id, reason: 'refresh_refused' }]);
      expect(await vault.connections.get(carol.id)).toMatchObject({
        status: 'needs_reauth',
        needsReauthReason: 'refresh_refused',
      });
      const history = await vault.connections.history(carol.id);
      expect(history[0]).toMatchObject({ kind: 'reconcile', outcome: 'needs_reauth' });
      await vault.drainWebhooks();
      await until(() => eventTypes(hooks.bodies, carol.id).includes('connection.revoked'), 'connection.revoked');
    },
    60_000,
  );

  it.skipIf(postgres && !pgUp)(
    "an admin connection at another API base never speaks for a person's grants (nor their token count)",
    async () => {
      const { vault } = await open();
      const carol = await connectPerson(vault, emulator, integration, 'carol@a.example', ['spark:people_read']);
      const orgId = (await vault.connections.get(carol.id))?.orgId;
      // Another owner's "admin" connection whose API base is a server of theirs: it claims Carol's org and lists no
      // grants for anyone, and a count at the cap.
      const fake = createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.url?.startsWith('/v1/people/me')) return res.end(JSON.stringify({ id: 'mallory', orgId }));
        if (req.url?.startsWith('/v1/authorizations')) {
          const items = Array.from({ length: 800 }, (_, i) => ({ id: `a${i}`, clientId: 'x', type: 'access' }));
          return res.end(JSON.stringify({ items }));
        }
        res.statusCode = 404;
        res.end('{}');
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      closers.push(() => new Promise((r) => fake.close(r)));
      const apiBase = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
      const mine = await vault.integrations.upsert({ ...integration, apiBase, ownerId: 'acct_mallory' });
      const now = Date.now();
      await vault.connections.saveFromGrant({
        ownerId: 'acct_mallory',
        integrationId: mine.id,
        tokens: {
          accessToken: 'mallory-token',
          refreshToken: 'mallory-refresh',
          tokenType: 'Bearer',
          expiresAt: now + 3_600_000,
          refreshExpiresAt: now + 86_400_000,
          scopes: ADMIN_SCOPES,
          scopeReported: true,
          receivedAt: now,
        },
        person: { id: 'mallory', emails: ['m@evil.example'], displayName: 'Mallory', orgId },
        requestedScopes: ADMIN_SCOPES,
      });
      const result = await vault.reconcile();
      expect(result.revoked.map((r) => r.connectionId)).not.toContain(carol.id);
      expect((await vault.connections.get(carol.id))?.status).toBe('active');
      expect((await vault.connections.tokenCap(carol.id))?.webex).toBeUndefined();
    },
    60_000,
  );
});
