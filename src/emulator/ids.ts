/**
 * Webex-shaped identifiers: REST ids (unpadded base64 of `ciscospark://us/<TYPE>/<uuid>`), tracking ids, and the
 * opaque credential format `<64 base64 chars>_PF84_<orgUuid>` (docs/webex-api.md "Hosts and identifiers"). Randomness from node:crypto.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** The REST resource types the emulator mints ids for. */
export type IdType =
  | 'PEOPLE'
  | 'ROOM'
  | 'ORGANIZATION'
  | 'MESSAGE'
  | 'MEMBERSHIP'
  | 'TEAM'
  | 'ROLE'
  | 'AUTHORIZATION'
  | 'CONTENT';

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

/** The UUID of the seed's room number `index` (from 0) titled `title`: stable, like every seeded id. */
export function seededRoomUuid(index: number, title: string): string {
  return stableUuid(`room:${index}:${title}`);
}

/** The emulator's default organization (bots, and users whose seed entry names no `orgId`). */
export const ORG_UUID = stableUuid('webex-auth emulator organization');

/** The REST id of the default organization. */
export const ORG_ID = restId('ORGANIZATION', ORG_UUID);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An organization's REST id from a seed's `orgId`: either the REST form (unpadded base64 of
 * `ciscospark://us/ORGANIZATION/<uuid>`; trailing `=` padding is dropped) or a bare UUID (lower-cased, then encoded).
 * Returns `{ id, uuid }`, or `undefined` when the value is neither.
 */
export function parseOrgId(value: string): { id: string; uuid: string } | undefined {
  if (UUID.test(value)) {
    const uuid = value.toLowerCase();
    return { id: restId('ORGANIZATION', uuid), uuid };
  }
  const parsed = parseRestId(value);
  if (parsed?.type !== 'ORGANIZATION' || !UUID.test(parsed.uuid)) return undefined;
  const id = restId('ORGANIZATION', parsed.uuid);
  // Only the canonical encoding of `ciscospark://us/ORGANIZATION/<uuid>` (Buffer's base64 decoding is lenient).
  return id === value.replace(/=+$/, '') ? { id, uuid: parsed.uuid } : undefined;
}

/** A fresh `TrackingID` header value, `ROUTER_<UUID>` as Webex's router sends. */
export function trackingId(): string {
  return `ROUTER_${randomUUID().toUpperCase()}`;
}

/**
 * A fresh opaque credential (code, access token, refresh token): 64 base64 characters that decode to a UUID plus 12 more
 * characters, then `_PF84_<orgUuid>` (the org of the person it is for; default the emulator's org), as every Cisco
 * example looks. Only characters that need no URL encoding appear.
 */
export function opaqueToken(orgUuid: string = ORG_UUID): string {
  // randomUUID draws from node:crypto's pooled entropy, cheaper per call than randomBytes (hot path: one per grant).
  const extra = randomUUID();
  return `${Buffer.from(randomUUID() + extra.slice(0, 8) + extra.slice(9, 13)).toString('base64')}_PF84_${orgUuid}`;
}

/** A user code for the device grant: 8 consonants without look-alikes, e.g. `BDWPHQRT`. */
export function userCode(): string {
  const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
  const bytes = randomBytes(8);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}
