/**
 * Reconciliation with Webex (every `RECONCILE_INTERVAL`, default 1 h, under a named lease so one instance runs it; and
 * `webex-auth reconcile`), and "Revoke at Webex".
 *
 * Each active connection is probed cheaply (`GET people/me` with its token; on a 401 one refresh, and a refused
 * refresh means the grant is gone). Where an admin connection (scope `identity:tokens_read`) exists for a person's org,
 * the person's grants are listed (`GET /v1/authorizations?personId=…`): a connection whose client has no grant left is
 * `needs_reauth` with reason `revoked_at_webex`; a refused refresh without such a listing is `refresh_refused`. Both
 * fire `connection.revoked`. The listing also caches Webex's own count of the person's access tokens (cap.ts).
 */
import type { Logger } from 'pino';
import { isWebexAuthError } from '../errors.js';
import type { FetchLike } from '../oauth/types.js';
import type { Authorization } from '../webex/authorizations.js';
import type { Refresher } from './refresher.js';
import type { ConnectionRow, IntegrationRow, NeedsReauthReason, Store } from './store/types.js';
import { VaultError } from './types.js';
import type { WebhookSender } from './webhooks.js';

/** The scope an admin connection needs to list a person's grants. */
export const TOKENS_READ = 'identity:tokens_read';
/** The scope an admin connection needs to delete a grant. */
export const TOKENS_WRITE = 'identity:tokens_write';

const RECONCILE_LEASE = 'reconcile';

/** What one reconciliation did. */
export interface ReconcileResult {
  /** False when another instance held the reconcile lease. */
  ran: boolean;
  /** Connections looked at. */
  checked: number;
  /** Connections found revoked, and why. */
  revoked: Array<{ connectionId: string; reason: NeedsReauthReason }>;
  /** Connections whose probe failed for another reason (Webex unavailable…): left as they are. */
  unknown: number;
}

/** What reconciliation needs from the vault. */
export interface ReconcileDeps {
  store: Store;
  refresher: Refresher;
  clock: () => number;
  fetch: FetchLike | undefined;
  logger: Logger | undefined;
  webhooks: WebhookSender;
  instanceId: string;
  /** The connection's access token in clear (the token cache). */
  accessToken(row: ConnectionRow): string;
  /** A valid access token of a connection (refreshed when needed). */
  freshToken(id: string): Promise<string>;
  /** Marks `needs_reauth` with a reason (first reason wins; true when it changed the row). */
  markNeedsReauth(id: string, reason: NeedsReauthReason): Promise<boolean>;
  /** Forgets what the token cache holds of a connection. */
  forget(id: string): void;
}

type Probe = { ok: true; orgId: string | undefined } | { ok: false; status: number };

/** GET people/me with the connection's token: the cheapest call every token may make. */
async function probe(deps: ReconcileDeps, row: ConnectionRow, apiBase: string): Promise<Probe> {
  try {
    const res = await (deps.fetch ?? fetch)(`${apiBase}/people/me`, {
      headers: { authorization: `Bearer ${deps.accessToken(row)}`, accept: 'application/json' },
      signal: AbortSignal.timeout(15_000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, status: res.status };
    }
    const body = (await res.json().catch(() => ({}))) as { orgId?: unknown };
    return { ok: true, orgId: typeof body.orgId === 'string' && body.orgId.length < 500 ? body.orgId : undefined };
  } catch {
    return { ok: false, status: 0 };
  }
}

/** Active connections able to call the Authorizations API with `scope`, by org (the org they were probed in). */
function adminsByOrg(rows: Array<{ row: ConnectionRow; orgId: string | undefined }>, scope: string) {
  const byOrg = new Map<string, ConnectionRow[]>();
  for (const { row, orgId } of rows) {
    if (!orgId || row.status !== 'active' || !row.scopes.includes(scope)) continue;
    byOrg.set(orgId, [...(byOrg.get(orgId) ?? []), row]);
  }
  return byOrg;
}

/** Marks a connection revoked (needs_reauth with `reason`) and fires `connection.revoked` once. */
async function markRevoked(deps: ReconcileDeps, id: string, reason: NeedsReauthReason, now: number): Promise<boolean> {
  const row = await deps.store.getConnection(id);
  if (!row) return false;
  let changed = false;
  if (row.status === 'needs_reauth') {
    // A refresh refused moments ago, now explained by the admin listing: the reason becomes the precise one.
    if (row.needsReauthReason === reason) return false;
    changed = await deps.store.setStatus(id, 'needs_reauth', row.lastError ?? reason, now, row.version, reason);
    deps.forget(id);
  } else {
    changed = await deps.markNeedsReauth(id, reason);
  }
  if (changed) {
    deps.logger?.warn({ connectionId: id, reason }, 'connection revoked at Webex');
    deps.webhooks.send('connection.revoked', id, now, { reason });
  }
  return changed;
}

/** Lists a person's grants through the first admin connection of `admins` that may (undefined: none could). */
async function grantsOf(
  deps: ReconcileDeps,
  admins: ConnectionRow[],
  apiBaseOf: (row: ConnectionRow) => string | undefined,
  personId: string,
): Promise<Authorization[] | undefined> {
  const { listAuthorizations } = await import('../webex/authorizations.js');
  for (const admin of admins) {
    const apiBase = apiBaseOf(admin);
    if (!apiBase) continue;
    try {
      return await listAuthorizations(apiBase, await deps.freshToken(admin.id), personId, deps.fetch);
    } catch (err) {
      deps.logger?.info(
        { connectionId: admin.id, status: (err as { status?: number }).status, error: (err as Error).name },
        'admin listing failed',
      );
    }
  }
  return undefined;
}

/** Runs one reconciliation of every active connection. */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileResult> {
  const { store, clock, instanceId } = deps;
  const start = clock();
  if (!(await store.acquireNamedLease(RECONCILE_LEASE, instanceId, start + 10 * 60_000, start))) {
    return { ran: false, checked: 0, revoked: [], unknown: 0 };
  }
  const result: ReconcileResult = { ran: true, checked: 0, revoked: [], unknown: 0 };
  try {
    const integrations = new Map<string, IntegrationRow>();
    for (const i of await store.listIntegrations()) integrations.set(i.id, i);
    const apiBaseOf = (row: ConnectionRow) => integrations.get(row.integrationId)?.apiBase;
    const rows = (await store.listConnections()).filter(
      (r) => r.status === 'active' && (r.kind ?? 'integration') === 'integration',
    );
    // 1. Probe every connection with its own token.
    const probed: Array<{ row: ConnectionRow; probe: Probe; orgId: string | undefined }> = [];
    for (const row of rows) {
      const apiBase = apiBaseOf(row);
      if (!apiBase) continue;
      const p = row.accessExpiresAt > clock() ? await probe(deps, row, apiBase) : { ok: false as const, status: 401 };
      probed.push({ row, probe: p, orgId: (p.ok ? p.orgId : undefined) ?? row.orgId });
    }
    const admins = adminsByOrg(
      probed.filter((p) => p.probe.ok),
      TOKENS_READ,
    );
    const allAdmins = [...admins.values()].flat();
    const listed = new Map<string, Authorization[] | undefined>();
    // 2. Where an admin connection exists, the person's grants say whether this connection's grant is gone.
    for (const { row, probe: p, orgId } of probed) {
      result.checked++;
      const now = clock();
      // Only an admin connection of the same Webex (API base) speaks for this person's grants: one elsewhere answers
      // whatever its server says.
      const apiBase = apiBaseOf(row);
      const candidates = (orgId ? (admins.get(orgId) ?? []) : allAdmins).filter((a) => apiBaseOf(a) === apiBase);
      const listKey = `${apiBase} ${row.personId}`;
      if (candidates.length > 0) {
        if (!listed.has(listKey)) {
          const grants = await grantsOf(deps, candidates, apiBaseOf, row.personId);
          listed.set(listKey, grants);
          if (grants) {
            const access = grants.filter((g) => g.type === 'access').length;
            await store.setWebexTokenCount(row.personId, access, now);
          }
        }
        const grants = listed.get(listKey);
        const clientId = integrations.get(row.integrationId)?.clientId;
        if (grants && !grants.some((g) => g.type !== 'access' && g.clientId === clientId)) {
          if (await markRevoked(deps, row.id, 'revoked_at_webex', now)) {
            result.revoked.push({ connectionId: row.id, reason: 'revoked_at_webex' });
          }
          continue;
        }
      }
      if (p.ok) continue;
      if (p.status !== 401) {
        result.unknown++;
        continue;
      }
      // 3. A refused token: one refresh. A refused refresh means the grant is gone.
      try {
        await deps.refresher.force(row.id, 'reconcile');
      } catch (err) {
        if (isWebexAuthError(err, 'needs_reauth')) {
          const reason: NeedsReauthReason = 'refresh_refused';
          deps.logger?.warn({ connectionId: row.id, reason }, 'connection revoked at Webex');
          deps.webhooks.send('connection.revoked', row.id, clock(), { reason });
          result.revoked.push({ connectionId: row.id, reason });
        } else {
          result.unknown++;
        }
      }
    }
  } finally {
    await store.releaseNamedLease(RECONCILE_LEASE, instanceId).catch(() => {});
  }
  deps.logger?.info(
    { checked: result.checked, revoked: result.revoked.length, unknown: result.unknown },
    'reconcile done',
  );
  return result;
}

/**
 * Deletes the grant(s) of this connection's client for its person at Webex, through an admin connection of the
 * person's org holding `identity:tokens_write`, then marks the connection `needs_reauth` (`revoked_at_webex`).
 * @throws {VaultError} `conflict` naming what is missing (no such admin connection for the org).
 */
export async function revokeAtWebex(deps: ReconcileDeps, id: string): Promise<{ deleted: number }> {
  const { store, clock } = deps;
  const row = await store.getConnection(id);
  if (!row) throw new VaultError('not_found', 'No such connection.');
  // Nothing to ask Webex (and no admin token spent at request rate): a grant already deleted, or a bot's token,
  // which is no grant of the Authorizations API.
  if (row.status === 'needs_reauth' && row.needsReauthReason === 'revoked_at_webex') {
    throw new VaultError('conflict', 'This grant was already revoked at Webex: the person must authorize again.');
  }
  if (row.kind === 'bot') {
    throw new VaultError(
      'conflict',
      "A bot's token is no grant Webex's Authorizations API lists: regenerate the bot's token at developer.webex.com, then delete this connection.",
    );
  }
  const integrations = new Map((await store.listIntegrations()).map((i) => [i.id, i]));
  const apiBaseOf = (r: ConnectionRow) => integrations.get(r.integrationId)?.apiBase;
  const clientId = integrations.get(row.integrationId)?.clientId;
  // The person's org: stored at grant time, else asked of Webex with the connection's own token.
  let orgId = row.orgId;
  const apiBase = apiBaseOf(row);
  if (!orgId && apiBase && row.status === 'active' && row.accessExpiresAt > clock()) {
    const p = await probe(deps, row, apiBase);
    if (p.ok) orgId = p.orgId;
  }
  const writers: ConnectionRow[] = [];
  for (const c of await store.listConnections()) {
    if (c.status !== 'active' || !c.scopes.includes(TOKENS_WRITE) || !c.scopes.includes(TOKENS_READ)) continue;
    const cBase = apiBaseOf(c);
    if (!cBase || cBase !== apiBase) continue;
    let cOrg = c.orgId;
    if (!cOrg && orgId) {
      const p = await probe(deps, c, cBase);
      cOrg = p.ok ? p.orgId : undefined;
    }
    if (!orgId || cOrg === orgId) writers.push(c);
  }
  const org = orgId ?? 'of this person (unknown)';
  if (writers.length === 0 || !apiBase || !clientId) {
    throw new VaultError(
      'conflict',
      `No admin connection with ${TOKENS_READ} and ${TOKENS_WRITE} for org ${org}: connect an org admin with those scopes, or revoke the grant in Control Hub.`,
    );
  }
  const { deleteAuthorization, listAuthorizations } = await import('../webex/authorizations.js');
  let lastError: unknown;
  for (const admin of writers) {
    try {
      const token = await deps.freshToken(admin.id);
      const grants = (await listAuthorizations(apiBase, token, row.personId, deps.fetch)).filter(
        (g) => g.clientId === clientId && g.type !== 'access',
      );
      for (const g of grants) await deleteAuthorization(apiBase, token, g.id, deps.fetch);
      await markRevoked(deps, id, 'revoked_at_webex', clock());
      return { deleted: grants.length };
    } catch (err) {
      lastError = err;
    }
  }
  const status = (lastError as { status?: number })?.status;
  throw new VaultError(
    'conflict',
    `No admin connection of org ${org} could revoke the grant (Webex answered ${status ?? 'nothing'}): its person must be a full, user or device admin with ${TOKENS_WRITE}.`,
  );
}
