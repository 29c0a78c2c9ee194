/**
 * Cap awareness: Webex lets one person hold `WEBEX_TOKEN_CAP` (750) live access tokens, counted across every client.
 * The broker counts, per person and across every integration in its store, the access tokens it minted that have not
 * expired (an unchanged token from a refresh is not a new one), and takes Webex's own count where an admin connection
 * read it (reconcile.ts). At 80 % it warns; at `TOKEN_CAP_REFUSE_AT` (90 %) forced refreshes are refused until the
 * oldest live token expires — while the current token is still served, and keep-alive refreshes still run (an idle
 * connection must never die).
 */
import { isWebexAuthError } from '../errors.js';
import { BoundedCache } from './bounded-cache.js';
import type { Store } from './store/types.js';
import { VaultError } from './types.js';

/** Where a person stands against the live-token cap. */
export interface TokenCapStatus {
  /** `WEBEX_TOKEN_CAP`. */
  cap: number;
  /**
   * Live access tokens this broker minted for the person (every integration), counted up to `cap` + 1: above the cap
   * the exact number means nothing Webex would agree with (it keeps a person at the cap), and `cap` + 1 reads "more".
   */
  minted: number;
  /** Webex's own count of the person's access tokens, when an admin connection read it, and when. */
  webex?: { accessTokens: number; checkedAt: number } | undefined;
  /** The count that counts: the larger of the two. */
  used: number;
  /** `used` as a whole percentage of `cap`. */
  percent: number;
  /** At or above 80 %. */
  warning: boolean;
  /** At or above `TOKEN_CAP_REFUSE_AT`: forced refreshes are refused. */
  refusing: boolean;
  /** The refusal threshold in percent. */
  refuseAt: number;
  /** When the oldest live token minted here expires (the count drops then); undefined when none is live. */
  oldestExpiresAt?: number | undefined;
}

/**
 * A count of live tokens as a person reads it: above `cap` the broker's own count has stopped (see
 * {@link TokenCapStatus.minted}), so it reads "more than <cap>", not a number.
 */
export function capCount(n: number, cap: number): string {
  return n > cap ? `more than ${cap}` : String(n);
}

/** The cap knobs of a configuration (defaults when a hand-made configuration lacks them). */
export function capOptions(config: { tokenCap?: number | undefined; tokenCapRefuseAt?: number | undefined }): {
  cap: number;
  refuseAt: number;
} {
  return {
    cap: Math.max(1, config.tokenCap ?? 750),
    refuseAt: Math.min(100, Math.max(1, config.tokenCapRefuseAt ?? 90)),
  };
}

/** How much earlier than its expiry another process, its clock ahead of ours, may prune a mint. */
const CLOCK_SKEW_MS = 60_000;
/**
 * Per store, the persons last counted above their cap (`cap` + 1 live mints), and until when that count surely holds:
 * the expiry of the oldest of those mints, less {@link CLOCK_SKEW_MS}. A mint's row is deleted only once it has expired
 * (the prune at each new mint, in any process), and new mints only add, so before that instant at least `cap` + 1 of
 * them are still live. Counting them is the costly part of the status (cap + 1 index entries, for every view of a
 * connection page).
 */
const aboveCap = new WeakMap<object, BoundedCache<string, { cap: number; until: number }>>();

/** The person's standing against the cap at `now`. */
export async function tokenCapStatus(
  store: Pick<Store, 'liveTokenMints' | 'getWebexTokenCount'>,
  personId: string,
  now: number,
  o: { cap: number; refuseAt: number },
): Promise<TokenCapStatus> {
  let known = aboveCap.get(store);
  const held = known?.get(personId);
  const stillAbove = held !== undefined && held.cap === o.cap && now < held.until;
  // Still above the cap: only the oldest live mint is read (a count of at most 0 reads no entry).
  const [read, webex] = await Promise.all([
    store.liveTokenMints(personId, now, stillAbove ? 0 : o.cap + 1),
    store.getWebexTokenCount(personId),
  ]);
  const mints = stillAbove ? { count: o.cap + 1, oldestExpiresAt: read.oldestExpiresAt } : read;
  if (!stillAbove && mints.count > o.cap && mints.oldestExpiresAt !== undefined) {
    if (!known) {
      known = new BoundedCache(10_000);
      aboveCap.set(store, known);
    }
    known.set(personId, { cap: o.cap, until: mints.oldestExpiresAt - CLOCK_SKEW_MS });
  }
  const used = Math.max(mints.count, webex?.accessTokens ?? 0);
  const percent = Math.floor((used * 100) / o.cap);
  return {
    cap: o.cap,
    minted: mints.count,
    webex,
    used,
    percent,
    warning: used * 100 >= o.cap * 80,
    refusing: used * 100 >= o.cap * o.refuseAt,
    refuseAt: o.refuseAt,
    oldestExpiresAt: mints.oldestExpiresAt,
  };
}

/** A forced refresh refused because the person is near Webex's live-token cap (`rate_limited`, with `retryAfter`). */
export class TokenCapError extends VaultError {
  override name = 'TokenCapError';
  constructor(
    readonly status: TokenCapStatus,
    retryAfterSeconds: number,
  ) {
    super(
      'rate_limited',
      `This person holds ${capCount(status.used, status.cap)} of Webex's ${status.cap} live access tokens (${status.percent} %): forced refreshes are refused at ${status.refuseAt} % so the cap is never reached. The current token is still served while valid, and keep-alive refreshes still run; try again in ${retryAfterSeconds} s, when the oldest token expires.`,
      retryAfterSeconds,
    );
  }

  /** The audit log's detail of the refusal: `token cap: <used>/<cap>`. */
  get auditDetail(): string {
    return `token cap: ${this.status.used}/${this.status.cap}`;
  }
}

/**
 * Whether `error` is a {@link TokenCapError} from any copy of this module (the CLI's `token` bundle has its own): a
 * vault `rate_limited` error that carries the person's cap status.
 */
export function isTokenCapError(error: unknown): error is TokenCapError {
  if (!isWebexAuthError(error, { family: 'vault', code: 'rate_limited' })) return false;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'object' && status !== null && typeof (status as { cap?: unknown }).cap === 'number';
}
