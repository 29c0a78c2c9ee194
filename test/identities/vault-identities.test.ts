/**
 * Bots and Service Apps in the vault, against the real emulator: a bot token checked with people/me and served
 * without refresh; a Service App fetched through an integration connection, refreshed under its own client, kept
 * alive, fetched again when its refresh token is dead, refused where it is not authorized, and turned `needs_reauth`
 * (`deauthorized`) when an admin deauthorizes it.
 */
import { describe, expect, it } from 'vitest';
import { VaultError } from '../../src/vault/types.js';
import { useEmulatorOnClock } from '../vault/emulator-clock.js';
import { control, grantFromEmulator, refreshGrants, tokenWorks } from '../vault/emulator-grant.js';
import {
  BOT_TOKEN,
  fetcherConnection,
  identitySeed,
  ORG_A,
  ORG_B,
  restOrg,
  SERVICE_APP,
  sqliteVault,
} from './fixture.js';

const DAY_S = 86_400;

describe('identity kinds in the vault (emulator)', () => {
  const { emulator, clock, advance, closers } = useEmulatorOnClock({
    seed: identitySeed,
    autoConsent: 'alice@example.com',
  });

  const addApp = async (vault: Awaited<ReturnType<typeof sqliteVault>>, org = ORG_A) => {
    const fetcher = await fetcherConnection(vault, emulator, clock);
    const app = await vault.identities.addServiceApp({
      appId: SERVICE_APP.id,
      clientId: SERVICE_APP.clientId,
      clientSecret: SERVICE_APP.clientSecret,
      orgId: org,
      fetcherConnectionId: fetcher.id,
    });
    return { fetcher, app };
  };

  it('a bot token is stored as kind bot, served as is, never refreshed nor kept alive', async () => {
    const vault = await sqliteVault(closers, clock);
    const bot = await vault.identities.addBot({ apiBase: emulator.apiBase, token: `  ${BOT_TOKEN}\n` });
    expect(bot).toMatchObject({ kind: 'bot', status: 'active', personEmail: 'ooo-bot@webex.bot' });
    const t = await vault.connections.getFreshToken(bot.id, 3600);
    expect(t.accessToken).toBe(BOT_TOKEN);
    expect(t.expiresAt).toBeGreaterThan(clock() + 99 * 365 * DAY_S * 1000);
    // Not offered as an integration to sign in with.
    expect((await vault.integrations.list()).map((i) => i.clientId)).not.toContain('webex-bot');
    await advance(200 * DAY_S);
    expect(await vault.sweepOnce()).toMatchObject({ refreshed: 0, failed: 0 });
    await expect(vault.connections.refresh(bot.id)).rejects.toMatchObject({ code: 'invalid_request' });
    // A refused bot token is not "renewed": the same token comes back, so the proxy passes Webex's 401 through.
    expect((await vault.connections.renewRefused(bot.id, BOT_TOKEN)).accessToken).toBe(BOT_TOKEN);
    expect(await tokenWorks(emulator.apiBase, t.accessToken)).toBe(true);
    expect((await vault.connections.get(bot.id))?.status).toBe('active');
  });

  it('a person token is refused as a bot, with a clear message', async () => {
    const vault = await sqliteVault(closers, clock);
    const grant = await grantFromEmulator(emulator.apiBase, clock);
    const err = await vault.identities
      .addBot({ apiBase: emulator.apiBase, token: grant.tokens.accessToken })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).message).toMatch(/belongs to a person, not a bot/);
    expect((err as VaultError).message).not.toContain(grant.tokens.accessToken);
    expect(await vault.connections.list()).toEqual([]);
  });

  it('a Service App is fetched through the fetching connection, then refreshed under its own client', async () => {
    const vault = await sqliteVault(closers, clock);
    const { fetcher, app } = await addApp(vault);
    expect(app).toMatchObject({
      kind: 'service_app',
      appId: SERVICE_APP.id,
      orgId: restOrg(ORG_A),
      fetcherConnectionId: fetcher.id,
      status: 'active',
    });
    const first = await vault.connections.getFreshToken(app.id, 60);
    expect(await tokenWorks(emulator.apiBase, first.accessToken)).toBe(true);
    const me = (await (
      await fetch(`${emulator.apiBase}/people/me`, { headers: { authorization: `Bearer ${first.accessToken}` } })
    ).json()) as { id: string };
    expect(me.id).toBe(app.personId);

    await advance(15 * DAY_S); // the access token expired
    const before = await refreshGrants(emulator.url);
    const second = await vault.connections.getFreshToken(app.id, 60);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(await refreshGrants(emulator.url)).toBe(before + 1);
    expect(await tokenWorks(emulator.apiBase, second.accessToken)).toBe(true);
  });

  it('keep-alive refreshes an idle Service App before its refresh token dies', async () => {
    const vault = await sqliteVault(closers, clock, { KEEPALIVE_DAYS: '30' });
    const { app } = await addApp(vault);
    const old = await vault.connections.revealTokens(app.id);
    await advance(80 * DAY_S);
    const before = await refreshGrants(emulator.url);
    // Both idle connections are kept alive: the fetcher (an integration) and the Service App.
    expect(await vault.sweepOnce()).toMatchObject({ ran: true, refreshed: 2, failed: 0 });
    expect(await refreshGrants(emulator.url)).toBe(before + 2);
    const now = await vault.connections.revealTokens(app.id);
    expect(now?.accessToken).not.toBe(old?.accessToken);
    expect(await tokenWorks(emulator.apiBase, now?.accessToken ?? '')).toBe(true);
    expect((await vault.connections.get(app.id))?.refreshExpiresAt).toBeGreaterThan(clock() + 80 * DAY_S * 1000);
  });

  it('a dead refresh token: the app is fetched again through /applications/{id}/token, not given up', async () => {
    const vault = await sqliteVault(closers, clock);
    const { app } = await addApp(vault);
    const old = await vault.connections.revealTokens(app.id);
    await control(emulator.url, 'revoke', { refreshToken: old?.refreshToken });
    await advance(15 * DAY_S);
    const t = await vault.connections.getFreshToken(app.id, 60);
    expect(t.accessToken).not.toBe(old?.accessToken);
    expect(await tokenWorks(emulator.apiBase, t.accessToken)).toBe(true);
    const after = await vault.connections.get(app.id);
    expect(after).toMatchObject({ status: 'active', needsReauthReason: undefined });
    expect((await vault.connections.revealTokens(app.id))?.refreshToken).not.toBe(old?.refreshToken);
  });

  it('a dead refresh token and no way to fetch again (app deauthorized, event missed): needs_reauth', async () => {
    const vault = await sqliteVault(closers, clock);
    const { app } = await addApp(vault);
    const old = await vault.connections.revealTokens(app.id);
    await control(emulator.url, `service-apps/${SERVICE_APP.id}/deauthorize`, { orgId: ORG_A });
    await control(emulator.url, 'revoke', { refreshToken: old?.refreshToken });
    await advance(15 * DAY_S);
    await expect(vault.connections.getFreshToken(app.id, 60)).rejects.toMatchObject({
      code: 'needs_reauth',
      reason: 'refresh_refused',
    });
    expect(await vault.connections.get(app.id)).toMatchObject({
      status: 'needs_reauth',
      needsReauthReason: 'refresh_refused',
    });
  });

  it('refused where the app is not authorized: 403 from Webex, nothing stored', async () => {
    const vault = await sqliteVault(closers, clock);
    const err = await addApp(vault, ORG_B).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'forbidden' });
    expect((err as Error).message).toMatch(/not authorized in this org/);
    expect((await vault.connections.list()).map((c) => c.kind)).toEqual(['integration']);
  });

  it('authorized elsewhere: onboarding the new org; deauthorized: needs_reauth with reason deauthorized', async () => {
    const vault = await sqliteVault(closers, clock);
    const { app } = await addApp(vault);
    await control(emulator.url, `service-apps/${SERVICE_APP.id}/authorize`, { orgId: ORG_B });
    const [onboarded] = await vault.identities.serviceAppAuthorized(SERVICE_APP.id, restOrg(ORG_B));
    if (!onboarded) throw new Error('nothing onboarded');
    expect(onboarded.orgId).toBe(restOrg(ORG_B));
    expect(await tokenWorks(emulator.apiBase, (await vault.connections.getFreshToken(onboarded.id)).accessToken)).toBe(
      true,
    );

    await control(emulator.url, `service-apps/${SERVICE_APP.id}/deauthorize`, { orgId: ORG_A });
    expect(await vault.identities.serviceAppDeauthorized(SERVICE_APP.id, ORG_A)).toEqual([app.id]);
    // The first reason wins: a later refusal does not overwrite it.
    expect(await vault.connections.markNeedsReauth(app.id, 'refresh_refused')).toBe(false);
    expect(await vault.connections.get(app.id)).toMatchObject({
      status: 'needs_reauth',
      needsReauthReason: 'deauthorized',
    });
    await expect(vault.connections.getFreshToken(app.id)).rejects.toMatchObject({
      code: 'needs_reauth',
      reason: 'deauthorized',
    });
    // The other org's connection is untouched.
    expect((await vault.connections.get(onboarded.id))?.status).toBe('active');
  });
});
