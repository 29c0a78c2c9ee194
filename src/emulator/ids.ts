/**
 * Webex-shaped identifiers: REST ids (unpadded base64 of `ciscospark://us/<TYPE>/<uuid>`), tracking ids, and the
 * opaque credential format `<64 base64 chars>_PF84_<orgUuid>` (webex-api.md §1). Randomness from node:crypto.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** The REST resource types the emulator mints ids for. */
export type IdType = 'PEOPLE' | 'ROOM' | 'ORGANIZATION' | 'MESSAGE' | 'MEMBERSHIP' | 'TEAM';

/** The REST id of a resource: unpadded base64 of `ciscospark://us/<TYPE>/<uuid>`. */
export function restId(type: IdType, uuid: string): string {
  return Buffer.from(`ciscospark://us/${type}/${uuid}`).toString('base64').replace(/=+$/, '');
}

/** Decodes a REST id to `{type, uuid}`, or `undefined` when it is not one. */
export function parseRestId(id: string): { type: string; uuid: string } | undefined {
  if (id.length > 200 || !/^[A-Za-z0-9+/]+=*$/.test(id)) return undefined;
  const m = /^ciscospark:\/\/[a-z]+\/([A-Z_]+)\/(.+)$/.exec(Buffer.from(id, 'base64').toString('utf8'));
  return m?.[1] && m[2] ? { type: m[1], uuid: m[2] } : undefined;
}

/** A UUID derived from a name, so that seeded people and rooms keep their ids across runs and resets. */
export function stableUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The emulator's one organization. */
export const ORG_UUID = stableUuid('webex-auth emulator organization');

/** A fresh `TrackingID` header value, `ROUTER_<UUID>` as Webex's router sends. */
export function trackingId(): string {
  return `ROUTER_${randomUUID().toUpperCase()}`;
}

const SUFFIX = `_PF84_${ORG_UUID}`;

/**
 * A fresh opaque credential (code, access token, refresh token): 64 base64 characters that decode to a UUID plus 12 more
 * characters, then `_PF84_<orgUuid>`, as every Cisco example looks. Only characters that need no URL encoding appear.
 */
export function opaqueToken(): string {
  // randomUUID draws from node:crypto's pooled entropy, cheaper per call than randomBytes (hot path: one per grant).
  const extra = randomUUID();
  return Buffer.from(randomUUID() + extra.slice(0, 8) + extra.slice(9, 13)).toString('base64') + SUFFIX;
}

/** A user code for the device grant: 8 consonants without look-alikes, e.g. `BDWPHQRT`. */
export function userCode(): string {
  const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
  const bytes = randomBytes(8);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}
