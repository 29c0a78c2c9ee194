/**
 * The identity kinds beyond a person's integration grant (vault `identities`):
 *
 * - **Bots**: a bot token does not expire and has no refresh token. It is checked with `people/me` (`type: "bot"`) and
 *   stored encrypted as a connection of kind `bot` whose access token "expires" 100 years on (Webex's own figure) and
 *   which is never due for keep-alive. Its integration row (kind `bot`, one per owner and API base) holds no secret.
 * - **Service Apps**: the app's client id/secret are an integration row of kind `service_app`; its token pair for one
 *   org is fetched through an integration connection holding `spark:applications_token` and then refreshed with the
 *   normal refresh grant under the app's own client. When the refresh token is dead, {@link Identities.recover} fetches
 *   the pair again (under the refresher's lease) before the connection is given up on.
 * - **Guests**: a Service App with `guest-issuer:write` mints guest tokens; a live one is reused per subject, kept
 *   encrypted in `guest_tokens`.
 *
 * The Webex calls are in identity-calls.ts, imported on first use.
 */
import { randomBytes } from 'node:crypto';
import { isWebexAuthError } from '../errors.js';
import type { Clock, FetchLike, TokenSet } from '../oauth/types.js';
import type { KeyRing } from './crypto/keyring.js';
import { ownerOf } from './owners.js';
import { guestSlot, secretSlot } from './slots.js';
import type { ConnectionRow, IntegrationRow, Store, TokenWrite } from './store/types.js';
import { type Connection, type ConnectionPerson, type Vault, VaultError, type VaultErrorCode } from './types.js';

/** The client id of the bots' integration row (never a Webex client id: it holds no secret and is never sent). */
export const BOT_CLIENT_ID = 'webex-bot';
/** How long a bot token is taken to live: Webex says "100 years". */
const BOT_LIFETIME_MS = 100 * 365 * 86_400_000;
/** A stored guest token is reused while it has at least this long left. */
const GUEST_MIN_LEFT_MS = 5 * 60_000;
/** The scope a fetching connection needs. */
export const APPLICATIONS_TOKEN_SCOPE = 'spark:applications_token';

/** What {@link createIdentities} needs from the vault. */
export interface IdentityDeps {
  store: Store;
  ring: KeyRing;
  clock: Clock;
  fetch: FetchLike | undefined;
  instanceId: string;
  connections: Pick<Vault['connections'], 'saveFromGrant' | 'getFreshToken' | 'markNeedsReauth'>;
  /** The refresher's encrypted token write (same slots, same keep-alive due time). */
  tokenWrite(id: string, tokens: TokenSet, now: number): TokenWrite;
}

/** The vault's `identities` plus the refresher's recovery hook. */
export type Identities = Vault['identities'] & {
  /** Fetches a Service App's pair again under the refresher's lease; true when new tokens were written. */
  recover(leased: ConnectionRow): Promise<boolean>;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An org id in the form Webex's REST API shows it (unpadded base64 of `ciscospark://us/ORGANIZATION/<uuid>`), from
 * that form or a bare UUID (as Control Hub shows it), so that webhook events find the connection; else undefined.
 */
export function restOrgId(value: string): string | undefined {
  const v = value.trim();
  if (UUID.test(v))
    return Buffer.from(`ciscospark://us/ORGANIZATION/${v.toLowerCase()}`).toString('base64').replace(/=+$/, '');
  if (v.length > 200 || !/^[A-Za-z0-9+/]+=*$/.test(v)) return undefined;
  const m = /^ciscospark:\/\/[a-z]+\/ORGANIZATION\/(.+)$/.exec(Buffer.from(v, 'base64').toString('utf8'));
  return m?.[1] && UUID.test(m[1]) ? v.replace(/=+$/, '') : undefined;
}

/** Creates the identities part of the vault. */
export function createIdentities(d: IdentityDeps): Identities {
  /** Runs Webex calls of identity-calls.ts (loaded on first use), their failures as VaultErrors. */
  async function call<T>(fn: (calls: typeof import('./identity-calls.js')) => Promise<T>): Promise<T> {
    const calls = await import('./identity-calls.js');
    try {
      return await fn(calls);
    } catch (err) {
      if (isWebexAuthError(err, { family: 'vault' }) && !(err instanceof VaultError)) {
        throw new VaultError(err.code as VaultErrorCode, err.message, (err as { retryAfter?: number }).retryAfter);
      }
      throw err;
    }
  }

  /** Finds or makes the integration row of a bot or Service App client. */
  async function clientRow(
    kind: 'bot' | 'service_app',
    ownerId: string,
    clientId: string,
    apiBase: string,
    secret: string,
  ): Promise<IntegrationRow> {
    const existing = await d.store.findIntegration(ownerId, clientId, apiBase);
    if (existing && (existing.kind ?? 'integration') !== kind) {
      throw new VaultError('conflict', `Client id ${clientId} is already stored as another kind of client.`);
    }
    const id = existing?.id ?? `int_${randomBytes(12).toString('base64url')}`;
    const now = d.clock();
    const row = await d.store.upsertIntegration({
      id,
      ownerId,
      clientId,
      apiBase,
      redirectUri: '',
      scopes: [],
      secretEnc: d.ring.encrypt(secret, secretSlot(id)),
      keyId: d.ring.activeKeyId,
      createdAt: now,
      updatedAt: now,
      kind,
    });
    if (row.id !== id) {
      // Lost an insert race: bind the secret to the stored row's id.
      await d.store.reencryptIntegration(
        row.id,
        row.secretEnc,
        d.ring.encrypt(secret, secretSlot(row.id)),
        d.ring.activeKeyId,
      );
    }
    return row;
  }

  /** The fetching connection of `ownerId`, checked. */
  async function fetcherOf(ownerId: string, id: string): Promise<{ row: ConnectionRow; apiBase: string }> {
    const row = await d.store.getConnection(id);
    if (!row || row.ownerId !== ownerId) throw new VaultError('not_found', 'No such fetching connection.');
    if ((row.kind ?? 'integration') !== 'integration') {
      throw new VaultError('invalid_request', 'The fetching connection must be an integration connection.');
    }
    if (!row.scopes.includes(APPLICATIONS_TOKEN_SCOPE)) {
      throw new VaultError('invalid_request', `The fetching connection lacks the ${APPLICATIONS_TOKEN_SCOPE} scope.`);
    }
    const integration = await d.store.getIntegration(row.integrationId);
    if (!integration) throw new VaultError('not_found', 'The fetching connection’s integration is gone.');
    return { row, apiBase: integration.apiBase };
  }

  /** Fetches a Service App's pair for an org through the fetcher's (fresh) token. */
  async function fetchPair(
    apiBase: string,
    fetcherId: string,
    app: { appId: string; clientId: string; clientSecret: string; orgId: string },
  ): Promise<TokenSet> {
    const fetcher = await d.connections.getFreshToken(fetcherId, 60);
    return call((c) =>
      c.fetchServiceAppTokens(
        { apiBase, fetch: d.fetch, clock: d.clock },
        { ...app, targetOrgId: app.orgId, fetcherToken: fetcher.accessToken },
      ),
    );
  }

  /** The machine account a Service App token acts as; a stand-in when `people/me` cannot tell. */
  async function machineAccount(apiBase: string, token: string, appId: string, orgId: string) {
    const me = await call((c) => c.whoIs({ apiBase, fetch: d.fetch }, token)).catch(() => undefined);
    const person: ConnectionPerson = me
      ? { id: me.id, emails: me.emails, displayName: me.displayName, orgId: me.orgId ?? orgId }
      : { id: `${appId}:${orgId}`, emails: [], displayName: `Service App ${appId}`, orgId };
    return person;
  }

  async function addServiceApp(input: Parameters<Vault['identities']['addServiceApp']>[0]): Promise<Connection> {
    const ownerId = ownerOf(input.ownerId);
    const orgId = restOrgId(input.orgId);
    if (!orgId) throw new VaultError('invalid_request', 'The org id must be a Webex org id or a bare UUID.');
    if (!/^[A-Za-z0-9+=_-]{1,300}$/.test(input.appId)) {
      throw new VaultError('invalid_request', 'The application id must be letters, digits, + = _ or -.');
    }
    const { apiBase } = await fetcherOf(ownerId, input.fetcherConnectionId);
    const tokens = await fetchPair(apiBase, input.fetcherConnectionId, { ...input, orgId });
    const client = await clientRow('service_app', ownerId, input.clientId, apiBase, input.clientSecret);
    const person = await machineAccount(apiBase, tokens.accessToken, input.appId, orgId);
    return d.connections.saveFromGrant({
      ownerId,
      integrationId: client.id,
      tokens,
      person: { ...person, orgId },
      requestedScopes: tokens.scopes,
      kind: 'service_app',
      appId: input.appId,
      fetcherConnectionId: input.fetcherConnectionId,
    });
  }

  /** The Service App connections of app `appId` (any owner). */
  async function appConnections(appId: string): Promise<ConnectionRow[]> {
    return (await d.store.listConnectionsByKind('service_app')).filter((c) => c.appId === appId);
  }

  /**
   * Whether Webex confirms that Service App connection `c`'s app is no longer authorized in its org: a signed
   * `deauthorized` delivery carries no timestamp, so a recorded one could be replayed after the org authorized the app
   * again. The app's token is fetched through the connection's fetcher: served (still authorized: a replay), or Webex
   * unavailable (the refresher finds out later), is no confirmation; any refusal is. A pair served is stored (unless
   * a refresh holds the connection's lease), so that no pair Webex handed out is left unused.
   */
  async function deauthorizationConfirmed(c: ConnectionRow): Promise<boolean> {
    const client = await d.store.getIntegration(c.integrationId);
    if (!client || !c.appId || !c.fetcherConnectionId || !c.orgId) return true;
    let tokens: TokenSet;
    try {
      tokens = await fetchPair(client.apiBase, c.fetcherConnectionId, {
        appId: c.appId,
        clientId: client.clientId,
        clientSecret: d.ring.decrypt(client.secretEnc, secretSlot(client.id)),
        orgId: c.orgId,
      });
    } catch (err) {
      return !isWebexAuthError(err, 'upstream_unavailable');
    }
    const now = d.clock();
    const leased = await d.store.acquireLease(c.id, d.instanceId, now + 15_000, now);
    if (leased && !(await d.store.writeTokens(c.id, leased.version, d.instanceId, d.tokenWrite(c.id, tokens, now)))) {
      await d.store.releaseLease(c.id, d.instanceId);
    }
    return false;
  }

  return {
    async addBot({ ownerId: rawOwner, apiBase: rawBase, token }) {
      const ownerId = ownerOf(rawOwner);
      const apiBase = rawBase.replace(/\/+$/, '');
      const trimmed = token.trim();
      if (!/^[\x21-\x7e]{20,4096}$/.test(trimmed)) {
        throw new VaultError('invalid_request', 'That does not look like a Webex bot token.');
      }
      const me = await call((c) => c.whoIs({ apiBase, fetch: d.fetch }, trimmed));
      if (me.type !== 'bot') {
        throw new VaultError(
          'invalid_request',
          `That token belongs to a ${me.type ?? 'person'}, not a bot: paste the bot's access token from developer.webex.com.`,
        );
      }
      const client = await clientRow('bot', ownerId, BOT_CLIENT_ID, apiBase, '');
      const now = d.clock();
      return d.connections.saveFromGrant({
        ownerId,
        integrationId: client.id,
        tokens: {
          accessToken: trimmed,
          refreshToken: '',
          tokenType: 'Bearer',
          expiresAt: now + BOT_LIFETIME_MS,
          refreshExpiresAt: now + BOT_LIFETIME_MS,
          scopes: [],
          scopeReported: false,
          receivedAt: now,
        },
        person: { id: me.id, emails: me.emails, displayName: me.displayName, orgId: me.orgId },
        requestedScopes: [],
        kind: 'bot',
      });
    },

    addServiceApp,

    async serviceAppAuthorized(appId, rawOrgId) {
      const orgId = restOrgId(rawOrgId) ?? rawOrgId;
      // Each owner that fetches this app in some org onboards the new one with the same client and fetcher (the next
      // of its connections is tried when one fails, e.g. a fetcher needing re-authorization).
      const done = new Set<string>();
      const onboarded: Connection[] = [];
      let failure: unknown;
      for (const c of await appConnections(appId)) {
        if (done.has(c.ownerId) || !c.fetcherConnectionId) continue;
        const client = await d.store.getIntegration(c.integrationId);
        if (!client) continue;
        try {
          onboarded.push(
            await addServiceApp({
              ownerId: c.ownerId,
              appId,
              clientId: client.clientId,
              clientSecret: d.ring.decrypt(client.secretEnc, secretSlot(client.id)),
              orgId,
              fetcherConnectionId: c.fetcherConnectionId,
            }),
          );
          done.add(c.ownerId);
        } catch (err) {
          failure ??= err;
        }
      }
      if (!onboarded.length && failure) throw failure;
      return onboarded;
    },

    async serviceAppDeauthorized(appId, rawOrgId) {
      const orgId = restOrgId(rawOrgId) ?? rawOrgId;
      const marked: string[] = [];
      for (const c of await appConnections(appId)) {
        if (c.orgId !== orgId || c.status !== 'active') continue;
        if (!(await deauthorizationConfirmed(c))) continue;
        if (await d.connections.markNeedsReauth(c.id, 'deauthorized')) marked.push(c.id);
      }
      return marked;
    },

    async guestToken(id, guest) {
      const row = await d.store.getConnection(id);
      if (!row) throw new VaultError('not_found', 'No such connection.');
      if (row.kind !== 'service_app') {
        throw new VaultError('invalid_request', 'Guest tokens are minted by a Service App connection.');
      }
      const now = d.clock();
      const stored = await d.store.getGuestToken(id, guest.subject);
      if (stored && stored.expiresAt - now >= GUEST_MIN_LEFT_MS) {
        try {
          const accessToken = d.ring.decrypt(stored.tokenEnc, guestSlot(id, guest.subject));
          return { accessToken, expiresAt: stored.expiresAt, reused: true };
        } catch {
          // Under a key no longer in the ring (rotated away): mint a new one below.
        }
      }
      const app = await d.connections.getFreshToken(id, 60);
      const integration = await d.store.getIntegration(row.integrationId);
      if (!integration) throw new VaultError('not_found', 'The connection’s integration is gone.');
      const minted = await call((c) =>
        c.mintGuestToken({ apiBase: integration.apiBase, fetch: d.fetch }, app.accessToken, guest),
      );
      const expiresAt = d.clock() + minted.expiresInSeconds * 1000;
      await d.store.putGuestToken({
        connectionId: id,
        subject: guest.subject,
        tokenEnc: d.ring.encrypt(minted.accessToken, guestSlot(id, guest.subject)),
        keyId: d.ring.activeKeyId,
        expiresAt,
        createdAt: now,
      });
      return { accessToken: minted.accessToken, expiresAt, reused: false };
    },

    async recover(leased) {
      if (leased.kind !== 'service_app' || !leased.appId || !leased.fetcherConnectionId || !leased.orgId) return false;
      const client = await d.store.getIntegration(leased.integrationId);
      if (!client) return false;
      try {
        const tokens = await fetchPair(client.apiBase, leased.fetcherConnectionId, {
          appId: leased.appId,
          clientId: client.clientId,
          clientSecret: d.ring.decrypt(client.secretEnc, secretSlot(client.id)),
          orgId: leased.orgId,
        });
        const now = d.clock();
        return await d.store.writeTokens(leased.id, leased.version, d.instanceId, d.tokenWrite(leased.id, tokens, now));
      } catch (err) {
        // Webex or the fetcher unavailable for now: the connection stays active and the caller is told to come back
        // (our lease is released for the next try).
        if (isWebexAuthError(err, 'upstream_unavailable')) {
          await d.store.releaseLease(leased.id, d.instanceId);
          throw err;
        }
        // Not authorized any more, or the fetcher is itself unusable: the connection needs re-authorization.
        return false;
      }
    },
  };
}
