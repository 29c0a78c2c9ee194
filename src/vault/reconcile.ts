/**
 * Reconciliation with Webex (every `RECONCILE_INTERVAL`, default 1 h, under a named lease so one instance runs it; and
 * `webex-auth reconcile`), and "Revoke at Webex".
 *
 * Each active connection is probed cheaply (`GET people/me` with its token; on a 401 one refresh, and a refused
 * refresh means the grant is gone). Where an admin connection (scope `identity:tokens_read`) exists for a person's org,
 * the person's grants are listed (`GET /v1/authorizations?personId=…`): a connection whose client has no grant left is
 * `needs_reauth` with reason `revoked_at_webex`; a refused refresh without such a listing is `refresh_refused`. Both
 * fire `connection.revoked`. The listing also caches Webex's own count of the person's access tokens (cap.ts).
 *
 * A run reads the few admin connections with one query, then the others a page at a time, renewing its lease as it
 * goes: memory stays bounded and no second instance starts the same work, however many connections are stored.
 */
import type { Logger } from 'pino';
import { isWebexAuthError } from '../errors.js';
import type { FetchLike } from '../oauth/types.js';
import type { Authorization } from '../webex/authorizations.js';
import { BoundedCache } from './bounded-cache.js';
import type { Refresher } from './refresher.js';
import { CONNECTION_PAGE, connectionPages, listOrder } from './store/pages.js';
import type { ConnectionRow, IntegrationRow, NeedsReauthReason, Store } from './store/types.js';
import { VaultError } from './types.js';
import type { WebhookSender } from './webhooks.js';

/** The scope an admin connection needs to list a person's grants. */
export const TOKENS_READ = 'identity:tokens_read';
/** The scope an admin connection needs to delete a grant. */
export const TOKENS_WRITE = 'identity:tokens_write';

const RECONCILE_LEASE = 'reconcile';
/** How long the reconcile lease holds without a renewal. */
const RECONCILE_LEASE_MS = 10 * 60_000;
/** Grant listings (one per person and Webex) a run remembers at most. */
const LISTED_MAX = 10_000;

/** What one reconciliation did. */
export interface ReconcileResult {
  /** False when another instance held the reconcile lease. */
  ran: boolean;
  /** True when the run stopped before the end: another instance took the lease meanwhile (the counts are partial). */
  stopped?: boolean;
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
  /** Connections read per page of a run (default {@link CONNECTION_PAGE}). */
  batchSize?: number | undefined;
  /** How often the lease is renewed in the background while a run lasts (default a quarter of its term). */
  leaseHeartbeatMs?: number | undefined;
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

/** What a connection's probe said, with the org it was found in (the probe's, else the stored one). */
interface Probed {
  probe: Probe;
  orgId: string | undefined;
}

/** Probes `row` unless its access token has expired already (then it reads as refused: a refresh will tell). */
async function probed(deps: ReconcileDeps, row: ConnectionRow, apiBase: string): Promise<Probed> {
  const p = row.accessExpiresAt > deps.clock() ? await probe(deps, row, apiBase) : { ok: false as const, status: 401 };
  return { probe: p, orgId: (p.ok ? p.orgId : undefined) ?? row.orgId };
}

/**
 * The admin connections reconciliation lists grants through: active integration connections with `identity:tokens_read`
 * whose probe succeeded, by the org they answered for (a targeted query: admins are few among any number of
 * connections). Their probes are kept so that the walk over every connection does not probe them again.
 */
async function findAdmins(deps: ReconcileDeps, apiBaseOf: (row: ConnectionRow) => string | undefined) {
  const byOrg = new Map<string, ConnectionRow[]>();
  const probes = new Map<string, Probed>();
  const rows = (await deps.store.connectionsWithScopes([TOKENS_READ], 'active')).sort(listOrder);
  for (const row of rows) {
    const apiBase = apiBaseOf(row);
    if ((row.kind ?? 'integration') !== 'integration' || !apiBase) continue;
    const p = await probed(deps, row, apiBase);
    probes.set(row.id, p);
    if (!p.probe.ok || !p.orgId) continue;
    byOrg.set(p.orgId, [...(byOrg.get(p.orgId) ?? []), row]);
  }
  return { byOrg, all: [...byOrg.values()].flat(), probes };
}

/**
 * The named lease of one run, renewed (taken again by the same holder with a later expiry) before each page, whenever
 * half its term has passed, and in the background every `leaseHeartbeatMs` — a single connection's checks (probes,
 * refreshes, grant listings through several admin connections, each with its own time-out) can outlast the term — so
 * that a run longer than the term keeps it and no other instance starts the same work. False once another instance
 * holds it.
 */
class RunLease {
  private renewedAt = 0;
  private lost = false;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ReconcileDeps) {}

  /** Takes the lease at the start of the run, and starts renewing it in the background. */
  async take(): Promise<boolean> {
    const taken = await this.renew();
    if (taken && !this.heartbeat) {
      this.heartbeat = setInterval(
        () => {
          if (!this.lost) this.renew().catch(() => {});
        },
        this.deps.leaseHeartbeatMs ?? RECONCILE_LEASE_MS / 4,
      );
      this.heartbeat.unref();
    }
    return taken;
  }

  /** Renews the lease when `force`d (a new page) or half its term has passed; false when it was lost. */
  async keep(force: boolean): Promise<boolean> {
    if (this.lost) return false;
    if (!force && this.deps.clock() - this.renewedAt < RECONCILE_LEASE_MS / 2) return true;
    return this.renew();
  }

  /** Stops renewing, and gives the lease up if it is still ours. */
  release(): Promise<void> {
    clearInterval(this.heartbeat);
    this.lost = true;
    return this.deps.store.releaseNamedLease(RECONCILE_LEASE, this.deps.instanceId).catch(() => {});
  }

  /** Takes the lease again with a later expiry; remembers for good when another instance holds it. */
  private async renew(): Promise<boolean> {
    const now = this.deps.clock();
    this.renewedAt = now;
    const held = await this.deps.store.acquireNamedLease(
      RECONCILE_LEASE,
      this.deps.instanceId,
      now + RECONCILE_LEASE_MS,
      now,
    );
    if (!held) this.lost = true;
    return held;
  }
}

/** What one run shares across the connections it checks. */
interface Run {
  deps: ReconcileDeps;
  integrations: Map<string, IntegrationRow>;
  apiBaseOf: (row: ConnectionRow) => string | undefined;
  admins: Awaited<ReturnType<typeof findAdmins>>;
  /**
   * The grants listed during the run, by API base and person (a person connected through several integrations is
   * listed once): at most LISTED_MAX, the least recently used dropped first.
   */
  listed: BoundedCache<string, Authorization[] | undefined>;
  result: ReconcileResult;
}

/**
 * Checks every active integration connection, a page at a time in id order, keeping the lease (see {@link RunLease});
 * false when the lease was lost (the walk stopped there).
 */
async function walkConnections(run: Run, lease: RunLease): Promise<boolean> {
  const filter = { status: 'active', kind: 'integration' } as const;
  let renew = false;
  for await (const page of connectionPages(run.deps.store, filter, run.deps.batchSize)) {
    for (const row of page) {
      if (!(await lease.keep(renew))) return false;
      renew = false;
      await checkConnection(run, row);
    }
    renew = true;
  }
  return true;
}

/**
 * Checks one connection: probed with its own token (an admin connection's probe is reused); where an admin connection
 * of the same Webex and org exists, the person's grants say whether this connection's grant is gone; else a refused
 * token gets one refresh, and a refused refresh means the grant is gone.
 */
async function checkConnection(run: Run, row: ConnectionRow): Promise<void> {
  const { deps, integrations, apiBaseOf, admins, listed, result } = run;
  const { store, clock } = deps;
  const apiBase = apiBaseOf(row);
  if (!apiBase) return;
  const { probe: p, orgId } = admins.probes.get(row.id) ?? (await probed(deps, row, apiBase));
  result.checked++;
  const now = clock();
  // Only an admin connection of the same Webex (API base) speaks for this person's grants: one elsewhere answers
  // whatever its server says.
  const candidates = (orgId ? (admins.byOrg.get(orgId) ?? []) : admins.all).filter((a) => apiBaseOf(a) === apiBase);
  const listKey = `${apiBase} ${row.personId}`;
  if (candidates.length > 0) {
    let grants: Authorization[] | undefined;
    if (listed.has(listKey)) grants = listed.get(listKey);
    else {
      grants = await grantsOf(deps, candidates, apiBaseOf, row.personId);
      if (grants) {
        const access = grants.filter((g) => g.type === 'access').length;
        await store.setWebexTokenCount(row.personId, access, now);
      }
    }
    // Set again when read: the listings least recently used are the ones dropped beyond LISTED_MAX.
    listed.set(listKey, grants);
    const clientId = integrations.get(row.integrationId)?.clientId;
    if (grants && !grants.some((g) => g.type !== 'access' && g.clientId === clientId)) {
      if (await markRevoked(deps, row.id, 'revoked_at_webex', now)) {
        result.revoked.push({ connectionId: row.id, reason: 'revoked_at_webex' });
      }
      return;
    }
  }
  if (p.ok) return;
  if (p.status !== 401) {
    result.unknown++;
    return;
  }
  // A refused token: one refresh. A refused refresh means the grant is gone.
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

/**
 * Runs one reconciliation of every active integration connection: the admin connections are found and probed first,
 * then the connections are read a page at a time (memory bounded by the page size, whatever the store holds), under
 * the reconcile lease renewed as the run goes. A run whose lease another instance took stops there (`ran` true, what
 * it checked so far).
 */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileResult> {
  const { store } = deps;
  const lease = new RunLease(deps);
  if (!(await lease.take())) {
    return { ran: false, checked: 0, revoked: [], unknown: 0 };
  }
  const result: ReconcileResult = { ran: true, checked: 0, revoked: [], unknown: 0 };
  try {
    const integrations = new Map<string, IntegrationRow>();
    for (const i of await store.listIntegrations()) integrations.set(i.id, i);
    const apiBaseOf = (row: ConnectionRow) => integrations.get(row.integrationId)?.apiBase;
    const admins = await findAdmins(deps, apiBaseOf);
    const run: Run = { deps, integrations, apiBaseOf, admins, listed: new BoundedCache(LISTED_MAX), result };
    if (!(await walkConnections(run, lease))) {
      result.stopped = true;
      deps.logger?.warn({ checked: result.checked }, 'reconcile stopped: another instance took the reconcile lease');
    }
  } finally {
    await lease.release();
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
  for (const c of (await store.connectionsWithScopes([TOKENS_WRITE, TOKENS_READ], 'active')).sort(listOrder)) {
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
