/**
 * Who is asking: the one access check every route uses. Three levels — `anyone`, `member`, `admin` — declared on each
 * route as `config: { access }` (a route that declares nothing needs a member). No rule depends on the client's address.
 *
 * - **Local mode**: every request is the local operator (a member). The local operator is admin too, unless
 *   `ADMIN_TOKEN` is set: then the admin pages ask for it once and the session remembers it.
 * - **Team mode**: a member is a signed-in Webex account (Sign in with Webex); an admin is one whose email is in
 *   `ADMIN_EMAILS`.
 * - **Scripts**: `Authorization: Bearer $ADMIN_TOKEN` makes any request an admin one, in either mode.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config.js';
import { LOCAL_OPERATOR } from '../../vault/types.js';

/** The access level a route needs. */
export type Access = 'anyone' | 'member' | 'admin';

/** The signed-in Webex account, as the session holds it. */
export interface SessionAccount {
  id: string;
  email: string;
  displayName: string;
  orgId?: string | undefined;
  /** Epoch ms of the sign-in (a session's account counts for {@link SIGN_IN_LIFETIME_MS} at most). */
  signedInAt?: number | undefined;
}

/** How long a sign-in counts, however active the session: then the person signs in again. */
export const SIGN_IN_LIFETIME_MS = 7 * 86_400_000;

/**
 * Whether a signed-in account still may use the server: the allow-lists are checked again on every request, so
 * narrowing ALLOWED_EMAIL_DOMAINS or ALLOWED_ORG_IDS (and restarting) ends the sessions they no longer allow.
 */
export function stillAllowed(
  config: Pick<Config, 'allowedEmailDomains' | 'allowedOrgIds'>,
  account: SessionAccount,
  now: number,
): boolean {
  if (typeof account.signedInAt !== 'number' || now - account.signedInAt > SIGN_IN_LIFETIME_MS) return false;
  const domain = account.email.slice(account.email.lastIndexOf('@') + 1);
  const domains = config.allowedEmailDomains;
  if (domains.length && !domains.includes('*') && !domains.includes(domain)) return false;
  return !config.allowedOrgIds.length || (!!account.orgId && config.allowedOrgIds.includes(account.orgId));
}

/** Who a request acts for. */
export interface Principal {
  /** The owner id of what this request makes and sees (undefined: an anonymous visitor, or a script with the admin token). */
  ownerId: string | undefined;
  /** The signed-in account (team mode). */
  account: SessionAccount | undefined;
  /** Admin: sees and manages everything. */
  admin: boolean;
  /** How admin was established, for the page header. */
  via: 'local' | 'session' | 'admin-token' | 'none';
}

/** Compares two secrets in constant time (lengths leak, contents do not). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when the request carries `Authorization: Bearer <ADMIN_TOKEN>`. */
export function hasAdminBearer(config: Pick<Config, 'adminToken'>, authorization: string | undefined): boolean {
  if (!config.adminToken || !authorization) return false;
  const m = /^Bearer\s+(\S+)$/i.exec(authorization);
  return !!m && sameSecret(m[1] as string, config.adminToken);
}

/** Whether `email` is an admin's under `ADMIN_EMAILS`. */
export function isAdminEmail(config: Pick<Config, 'adminEmails'>, email: string | undefined): boolean {
  return !!email && config.adminEmails.includes(email.toLowerCase());
}

/** The principal of a request, from the configuration, its session's account and its Authorization header. */
export function principalOf(
  config: Pick<Config, 'accessMode' | 'adminToken' | 'adminEmails' | 'allowedEmailDomains' | 'allowedOrgIds'>,
  session: { account?: SessionAccount | undefined; adminUnlocked?: boolean | undefined } | undefined,
  authorization: string | undefined,
  now: number = Date.now(),
): Principal {
  const bearer = hasAdminBearer(config, authorization);
  if (config.accessMode === 'local') {
    const admin = bearer || !config.adminToken || session?.adminUnlocked === true;
    return {
      ownerId: LOCAL_OPERATOR,
      account: undefined,
      admin,
      via: bearer ? 'admin-token' : admin ? 'local' : 'none',
    };
  }
  const account = session?.account && stillAllowed(config, session.account, now) ? session.account : undefined;
  if (account) {
    const admin = isAdminEmail(config, account.email) || bearer;
    return { ownerId: account.id, account, admin, via: admin ? (bearer ? 'admin-token' : 'session') : 'none' };
  }
  return { ownerId: undefined, account: undefined, admin: bearer, via: bearer ? 'admin-token' : 'none' };
}

/** Whether `principal` meets `access`. */
export function allows(principal: Principal, access: Access): boolean {
  if (access === 'anyone') return true;
  if (access === 'admin') return principal.admin;
  return principal.ownerId !== undefined || principal.admin;
}

/** Whether `principal` may see and act on a row owned by `ownerId`. */
export function owns(principal: Principal, ownerId: string): boolean {
  return principal.admin || (principal.ownerId !== undefined && principal.ownerId === ownerId);
}
