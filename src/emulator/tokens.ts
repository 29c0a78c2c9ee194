/**
 * Minting and checking credentials: codes, access/refresh token pairs, the per-person live-token cap, revocation.
 * A token is random bytes + base64 kept in a Map keyed by the token string, so minting stays cheap.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';
import { opaqueToken, restId } from './ids.js';
import type { ResolvedOptions } from './options.js';
import type { AccessRec, EmulatorState, RefreshRec } from './state.js';

/** Why an access token was refused. */
export type AccessCheck = { ok: true; rec: AccessRec } | { ok: false };

/** Issues and checks tokens against the emulator state and clock. */
export class Tokens {
  constructor(
    private readonly state: EmulatorState,
    private readonly clock: Clock,
    private readonly options: ResolvedOptions,
  ) {}

  private revoked(at: number | undefined, now: number): boolean {
    return at !== undefined && now >= at;
  }

  /** The live record of a refresh token, or undefined when unknown, expired or revoked. */
  liveRefresh(token: string): RefreshRec | undefined {
    const rec = this.state.refreshTokens.get(token);
    const now = this.clock.now();
    if (!rec || now >= rec.expiresAt || this.revoked(rec.revokedAt, now)) return undefined;
    if (this.revoked(this.state.retiredRefreshTokens.get(token), now)) return undefined;
    return rec;
  }

  /** Checks a bearer access token: known, unexpired, not revoked, and its grant not revoked. */
  checkAccess(token: string): AccessCheck {
    const rec = this.state.accessTokens.get(token);
    if (!rec) return { ok: false };
    const now = this.clock.now();
    if (now >= rec.expiresAt || this.revoked(rec.revokedAt, now)) return { ok: false };
    if (rec.refresh && this.revoked(rec.refresh.revokedAt, now)) return { ok: false };
    return { ok: true, rec };
  }

  /** Whether the person may get one more access token under the live-token cap (750 per person, all clients). */
  underCap(personUuid: string): boolean {
    const live = this.state.liveByPerson.get(personUuid);
    if (!live || live.size < this.options.tokenCap) return true;
    for (const t of live) if (!this.checkAccess(t).ok) live.delete(t);
    return live.size < this.options.tokenCap;
  }

  /** The org UUID that ends a person's credentials (`…_PF84_<orgUuid>`). */
  private orgOf(personUuid: string): string | undefined {
    return this.state.personByUuid(personUuid)?.orgUuid;
  }

  /** Mints an access token on a grant. */
  mintAccess(grant: RefreshRec, ttlSeconds: number): AccessRec {
    const token = opaqueToken(this.orgOf(grant.personUuid));
    const now = this.clock.now();
    const rec: AccessRec = {
      token,
      clientId: grant.clientId,
      personUuid: grant.personUuid,
      scopes: grant.scopeSet,
      created: now,
      expiresAt: now + ttlSeconds * 1000,
      refresh: grant,
    };
    this.state.accessTokens.set(token, rec);
    grant.accessTokens.add(token);
    this.countLive(rec);
    return rec;
  }

  /** Mints an access token on no grant (a guest's): it cannot be refreshed. */
  mintBare(clientId: string, personUuid: string, scopes: ReadonlySet<string>, ttlSeconds: number): AccessRec {
    const now = this.clock.now();
    const rec: AccessRec = {
      token: opaqueToken(this.orgOf(personUuid)),
      clientId,
      personUuid,
      scopes,
      created: now,
      expiresAt: now + ttlSeconds * 1000,
    };
    this.state.accessTokens.set(rec.token, rec);
    this.countLive(rec);
    return rec;
  }

  private countLive(rec: AccessRec): void {
    let live = this.state.liveByPerson.get(rec.personUuid);
    if (!live) {
      live = new Set();
      this.state.liveByPerson.set(rec.personUuid, live);
    }
    live.add(rec.token);
  }

  /** Creates a new grant (refresh token) for a person. */
  mintRefresh(clientId: string, personUuid: string, scopes: string[], authTime: number): RefreshRec {
    const rec: RefreshRec = {
      id: restId('AUTHORIZATION', randomUUID()),
      created: this.clock.now(),
      token: opaqueToken(this.orgOf(personUuid)),
      clientId,
      personUuid,
      scopes,
      scopeSet: new Set(scopes),
      scope: scopes.join(' '),
      authTime,
      expiresAt: this.clock.now() + this.options.refreshTtl * 1000,
      accessTokens: new Set(),
    };
    this.state.refreshTokens.set(rec.token, rec);
    return rec;
  }

  /**
   * Gives a grant a new refresh token string (rotation); the old string dies after the grace period, while access
   * tokens already minted on the grant stay valid.
   */
  rotate(grant: RefreshRec): RefreshRec {
    this.state.retiredRefreshTokens.set(grant.token, this.clock.now() + this.options.rotationGraceSeconds * 1000);
    grant.token = opaqueToken(this.orgOf(grant.personUuid));
    this.state.refreshTokens.set(grant.token, grant);
    return grant;
  }

  /** Revokes a grant and (through it) every access token minted from it. */
  revokeGrant(grant: RefreshRec): void {
    const at = this.clock.now() + this.options.revocationLagMs;
    grant.revokedAt = at;
    for (const t of grant.accessTokens) {
      const a = this.state.accessTokens.get(t);
      if (a) a.revokedAt = at;
    }
  }

  /** Revokes one access token (after `--revocation-lag-ms`). */
  revokeAccess(rec: AccessRec): void {
    rec.revokedAt ??= this.clock.now() + this.options.revocationLagMs;
  }

  /** Revokes every grant and access token of a person; returns how many grants were revoked. */
  revokePerson(personUuid: string): number {
    let n = 0;
    for (const g of this.state.refreshTokens.values())
      if (g.personUuid === personUuid && g.revokedAt === undefined) {
        this.revokeGrant(g);
        n++;
      }
    return n;
  }
}
