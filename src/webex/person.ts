/**
 * Who a fresh token pair belongs to — the one rule of the web callback and every CLI login, so that a person who
 * authorizes again (say, with more scopes) lands on the same connection: `GET /people/me`, else the verified
 * id_token's `sub`, else OIDC userinfo's `sub` (when `openid` was granted), else a placeholder stable for the grant.
 * A `sub` is a bare UUID; it is turned into the REST person id people/me answers for the same person.
 */
import { createHash } from 'node:crypto';
import type { FetchLike } from '../oauth/types.js';
import { WebexClient } from './client.js';
import { WebexApiError } from './errors.js';
import type { Person } from './schemas.js';

/** The person a connection is stored under (the vault's `ConnectionPerson` shape). */
export interface ResolvedPerson {
  id: string;
  emails: string[];
  displayName: string;
  avatar?: string | undefined;
  orgId?: string | undefined;
}

/** Where {@link resolvePerson} found the person. */
export type PersonSource = 'people/me' | 'id_token' | 'userinfo' | 'placeholder';

/** What {@link resolvePerson} returns: the person, where it came from, and people/me's answer when it had one. */
export interface PersonResolution {
  person: ResolvedPerson;
  source: PersonSource;
  /** The full people/me answer (only when `source` is `people/me`). */
  me?: Person | undefined;
}

/** The identity claims of a verified id_token that {@link resolvePerson} uses. */
export interface IdentityClaims {
  sub: string;
  email?: unknown;
  name?: unknown;
}

/** What {@link resolvePerson} needs. */
export interface ResolvePersonInput {
  /** The API base the tokens are for, e.g. `https://webexapis.com/v1`. */
  apiBase: string;
  tokens: { accessToken: string; refreshToken: string; scopes: readonly string[] };
  /** The claims of the id_token, already verified (signature, audience, nonce, issuer); omit when there is none. */
  claims?: IdentityClaims | undefined;
  fetch?: FetchLike;
  signal?: AbortSignal;
}

/** The display name used when nothing names the person (no `spark:people_read`, no name claim). */
export const UNKNOWN_PERSON = 'Unknown person';

/**
 * The REST person id of an OIDC `sub` (a bare UUID): unpadded base64 of `ciscospark://us/PEOPLE/<uuid>`, as
 * people/me spells the id of the same person. A `sub` that is already a REST id is returned as it is.
 */
export function personIdFromSub(sub: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sub)) return sub;
  return Buffer.from(`ciscospark://us/PEOPLE/${sub.toLowerCase()}`).toString('base64').replace(/=+$/, '');
}

/** Whether `value` is a non-blank string claim. */
const isText = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/** Whether the id_token lacks the email (scope `email`) or the name (scope `profile`) that userinfo would give. */
function lacksGrantedClaims(claims: IdentityClaims, scopes: readonly string[]): boolean {
  return (!isText(claims.email) && scopes.includes('email')) || (!isText(claims.name) && scopes.includes('profile'));
}

/** The person of a `sub` plus the email and name claims that came with it (only string ones). */
function fromClaims(c: IdentityClaims): ResolvedPerson {
  const email = isText(c.email) ? c.email : undefined;
  const name = isText(c.name) ? c.name : undefined;
  return { id: personIdFromSub(c.sub), emails: email ? [email] : [], displayName: name ?? email ?? UNKNOWN_PERSON };
}

/**
 * Finds who `tokens` belong to: people/me (refused with 403 without `spark:people_read`), else the verified
 * id_token's `sub` (with userinfo's email and name when the id_token lacks the ones a granted `email`/`profile` scope
 * gives), else userinfo (when `openid` was granted), else a placeholder id derived from a hash of the refresh token
 * (never a piece of it). Any failure other than people/me's 403 is thrown as is.
 */
export async function resolvePerson(input: ResolvePersonInput): Promise<PersonResolution> {
  const { apiBase, tokens, signal } = input;
  const base: FetchLike = input.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const fetch: FetchLike | undefined = signal ? (url, init) => base(url, { ...init, signal }) : input.fetch;
  const client = new WebexClient({ apiBase, accessToken: tokens.accessToken, ...(fetch ? { fetch } : {}) });
  try {
    const me = await client.peopleMe();
    const person = { id: me.id, emails: me.emails, displayName: me.displayName, avatar: me.avatar, orgId: me.orgId };
    return { person, source: 'people/me', me };
  } catch (error) {
    if (!(error instanceof WebexApiError && error.status === 403)) throw error;
  }
  const userInfo = async () => {
    // Loaded only here: jose (which oidc.js imports) stays off the path of a login without openid.
    const { fetchUserInfo } = await import('../oauth/oidc.js');
    return fetchUserInfo(apiBase, tokens.accessToken, { ...(fetch ? { fetch } : {}) });
  };
  if (input.claims?.sub) {
    const claims = input.claims;
    if (!lacksGrantedClaims(claims, tokens.scopes)) return { person: fromClaims(claims), source: 'id_token' };
    // The id_token left out the email or name that the granted `email`/`profile` scope gives (Webex's documentation
    // differs on whether it carries them): userinfo fills them in, for the same `sub` only. Its failure costs only
    // them: the id_token alone still names the person.
    try {
      const info = await userInfo();
      if (info.sub === claims.sub) {
        const email = isText(claims.email) ? claims.email : info.email;
        const name = isText(claims.name) ? claims.name : info.name;
        return { person: fromClaims({ sub: claims.sub, email, name }), source: 'id_token' };
      }
    } catch (error) {
      if (signal?.aborted) throw error;
    }
    return { person: fromClaims(claims), source: 'id_token' };
  }
  if (tokens.scopes.includes('openid')) return { person: fromClaims(await userInfo()), source: 'userinfo' };
  const id = `unknown-${createHash('sha256').update(tokens.refreshToken).digest('hex').slice(0, 12)}`;
  return { person: { id, emails: [], displayName: UNKNOWN_PERSON }, source: 'placeholder' };
}
