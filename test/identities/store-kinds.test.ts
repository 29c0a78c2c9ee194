/**
 * The store side of the identity kinds (migrations sqlite/006, postgres/008), on SQLite and real PostgreSQL: a
 * connection's kind, app and fetcher round-trip; `needs_reauth` records its reason (default `refresh_refused`) and a
 * token write or a new grant clears it; an integration row keeps its kind; guest tokens are one per (connection,
 * subject), replaced in place, and go with their connection.
 */
import { expect, it } from 'vitest';
import type { ConnectionRow, IntegrationRow } from '../../src/vault/store/types.js';
import { connectionRow } from '../vault/helpers.js';
import { forEachStore } from '../vault/store-runner.js';

const integration = (over: Partial<IntegrationRow> = {}): IntegrationRow => ({
  id: 'int_sa',
  ownerId: 'local',
  clientId: 'Csa',
  apiBase: 'https://webexapis.com/v1',
  redirectUri: '',
  scopes: [],
  secretEnc: 'v1:s',
  keyId: 'k1',
  createdAt: 1,
  updatedAt: 1,
  kind: 'service_app',
  ...over,
});

const connection = (over: Partial<ConnectionRow> = {}): ConnectionRow =>
  connectionRow({
    id: 'conn_sa',
    integrationId: 'int_sa',
    personId: 'machine-1',
    personEmail: '',
    personEmails: [],
    displayName: 'Reporter',
    orgId: 'org-a',
    scopes: [],
    requestedScopes: [],
    accessTokenEnc: 'v1:a',
    refreshTokenEnc: 'v1:r',
    createdAt: 1,
    updatedAt: 1,
    kind: 'service_app',
    appId: 'app-1',
    fetcherConnectionId: 'conn_fetcher',
    ...over,
  });

forEachStore('identity kinds in the store', 'kinds', (store) => {
  it('kinds round-trip; needs_reauth keeps its reason until a write clears it', async () => {
    expect((await store().upsertIntegration(integration())).kind).toBe('service_app');
    await store().upsertIntegration(integration({ id: 'int_plain', clientId: 'Cplain', kind: undefined }));
    expect((await store().getIntegration('int_plain'))?.kind).toBe('integration');
    const { row } = await store().upsertConnection(connection());
    expect(row).toMatchObject({
      kind: 'service_app',
      appId: 'app-1',
      fetcherConnectionId: 'conn_fetcher',
      needsReauthReason: undefined,
    });
    expect(await store().setStatus(row.id, 'needs_reauth', 'deauthorized', 2, row.version, 'deauthorized')).toBe(true);
    expect(await store().getConnection(row.id)).toMatchObject({
      status: 'needs_reauth',
      needsReauthReason: 'deauthorized',
      keepaliveDueAt: undefined,
    });
    // A refresher's refusal without a reason records `refresh_refused`.
    await store().setStatus(row.id, 'active', undefined, 3);
    expect((await store().getConnection(row.id))?.needsReauthReason).toBeUndefined();
    const before = (await store().getConnection(row.id)) as ConnectionRow;
    await store().setStatus(row.id, 'needs_reauth', 'invalid_grant', 4, before.version);
    expect((await store().getConnection(row.id))?.needsReauthReason).toBe('refresh_refused');
    // A new grant (upsert) makes it active again, without a reason.
    const again = await store().upsertConnection(connection({ id: 'conn_other' }));
    expect(again.row).toMatchObject({ id: row.id, status: 'active', needsReauthReason: undefined });
    // A token write also clears it.
    const leased = await store().acquireLease(row.id, 'me', 100, 5);
    await store().setStatus(row.id, 'needs_reauth', 'x', 6, undefined, 'revoked_at_webex');
    const cur = (await store().getConnection(row.id)) as ConnectionRow;
    await store().acquireLease(row.id, 'me', 100, 7);
    expect(leased).toBeDefined();
    expect(
      await store().writeTokens(row.id, cur.version, 'me', {
        accessTokenEnc: 'v1:a2',
        refreshTokenEnc: 'v1:r2',
        keyId: 'k1',
        accessExpiresAt: 20_000,
        refreshExpiresAt: 200_000,
        keepaliveDueAt: 150_000,
        scopes: [],
        lastRefreshAt: 8,
        updatedAt: 8,
      }),
    ).toBe(true);
    expect(await store().getConnection(row.id)).toMatchObject({ status: 'active', needsReauthReason: undefined });
  });

  it('guest tokens: one per (connection, subject), replaced in place, deleted with the connection', async () => {
    await store().upsertConnection(connection({ id: 'conn_g', personId: 'machine-g' }));
    const id = (await store().findGrantTarget('int_sa', 'machine-g', 'local'))?.connectionId as string;
    expect(await store().getGuestToken(id, 'visitor')).toBeUndefined();
    const row = {
      connectionId: id,
      subject: 'visitor',
      tokenEnc: 'v1:g1',
      keyId: 'k1',
      expiresAt: 900,
      createdAt: 1,
    };
    await store().putGuestToken(row);
    await store().putGuestToken({ ...row, subject: 'other', tokenEnc: 'v1:o' });
    expect(await store().getGuestToken(id, 'visitor')).toEqual(row);
    await store().putGuestToken({ ...row, tokenEnc: 'v1:g2', expiresAt: 1900, createdAt: 2 });
    expect(await store().getGuestToken(id, 'visitor')).toMatchObject({ tokenEnc: 'v1:g2', expiresAt: 1900 });
    expect((await store().getGuestToken(id, 'other'))?.tokenEnc).toBe('v1:o');
    await store().deleteConnection(id);
    expect(await store().getGuestToken(id, 'visitor')).toBeUndefined();
  });

  it('guest tokens: a put deletes the connection’s expired ones and keeps at most `maxLive`, oldest out', async () => {
    await store().upsertConnection(connection({ id: 'conn_cap', personId: 'machine-cap' }));
    await store().upsertConnection(connection({ id: 'conn_cap2', personId: 'machine-cap2' }));
    const id = (await store().findGrantTarget('int_sa', 'machine-cap', 'local'))?.connectionId as string;
    const other = (await store().findGrantTarget('int_sa', 'machine-cap2', 'local'))?.connectionId as string;
    const put = (connectionId: string, subject: string, createdAt: number, expiresAt: number, maxLive?: number) =>
      store().putGuestToken({ connectionId, subject, tokenEnc: 'v1:t', keyId: 'k1', expiresAt, createdAt }, maxLive);
    await put(id, 'expired-1', 1, 100);
    await put(id, 'expired-2', 2, 100);
    await put(other, 'elsewhere', 3, 100);
    await put(id, 'live', 100, 5000);
    expect(await store().getGuestToken(id, 'expired-1')).toBeUndefined();
    expect(await store().getGuestToken(id, 'expired-2')).toBeUndefined();
    // Another connection's expired rows wait for that connection's own next put.
    expect(await store().getGuestToken(other, 'elsewhere')).toBeDefined();
    for (let i = 1; i <= 4; i++) await put(id, `s${i}`, 100 + i, 5000, 3);
    const left = [];
    for (const s of ['live', 's1', 's2', 's3', 's4']) if (await store().getGuestToken(id, s)) left.push(s);
    expect(left).toEqual(['s2', 's3', 's4']);
    await store().deleteConnection(id);
    await store().deleteConnection(other);
  });

  it('refresh history goes with its connection; its minted tokens still count toward the cap until they expire', async () => {
    await store().upsertConnection(connection({ id: 'conn_h', personId: 'machine-h' }));
    const id = (await store().findGrantTarget('int_sa', 'machine-h', 'local'))?.connectionId as string;
    const history = { at: 1, kind: 'ondemand', outcome: 'success', status: 200, durationMs: 1, error: undefined };
    await store().insertRefreshHistory({ ...history, connectionId: id });
    await store().insertRefreshHistory({ ...history, connectionId: 'conn_kept' });
    const mint = { personId: 'machine-h', mintedAt: 1, accessExpiresAt: 10_000_000 };
    await store().recordTokenMint({ ...mint, connectionId: id });
    await store().recordTokenMint({ ...mint, connectionId: 'conn_kept', accessExpiresAt: 20_000_000 });
    expect((await store().liveTokenMints('machine-h', 2)).count).toBe(2);
    expect(await store().deleteConnection(id)).toBe(true);
    expect(await store().listRefreshHistory(id, 10)).toEqual([]);
    expect((await store().listRefreshHistory('conn_kept', 10)).length).toBe(1);
    // Deleting a connection here ends nothing at Webex: its tokens stay live there and keep counting.
    expect(await store().liveTokenMints('machine-h', 2)).toEqual({ count: 2, oldestExpiresAt: 10_000_000 });
  });
});
