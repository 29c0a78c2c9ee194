/** Webex REST resource bodies (docs/webex-api.md "REST resources") built from the emulator's records. */
import { restId } from '../ids.js';
import type { AdminRole } from '../seed.js';
import type { EmulatorState, MembershipRec, MessageRec, PersonRec, RoomRec } from '../state.js';

/** A role's REST id, as Webex shows it in `roles`: base64 of `ciscospark://us/ROLE/id_<name>`, e.g. id_full_admin. */
export function roleId(role: AdminRole): string {
  return restId('ROLE', `id_${role}`);
}

/** Whether `viewer` sees `p`'s `roles`: p itself (people/me), or a full or user admin of p's org. */
export function seesRoles(viewer: PersonRec, p: PersonRec): boolean {
  return (
    viewer === p ||
    (viewer.orgId === p.orgId && (viewer.roles.includes('full_admin') || viewer.roles.includes('user_admin')))
  );
}

/**
 * A Person object. `roles` (role ids, only when the person has any) appears only with `withRoles`, i.e. when
 * {@link seesRoles} says the caller may see them.
 */
export function personJson(p: PersonRec, withRoles = false): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: p.id,
    emails: [p.email],
    phoneNumbers: p.phone ? [{ type: 'work', value: p.phone, primary: true }] : [],
    displayName: p.displayName,
  };
  if (p.nickName) body.nickName = p.nickName;
  if (p.firstName !== undefined) body.firstName = p.firstName;
  if (p.lastName !== undefined) body.lastName = p.lastName;
  body.avatar = `https://avatar-prod-us-east-2.webexcontent.com/Avtr~V1~${p.orgUuid}/V1~${p.uuid}~1600`;
  body.orgId = p.orgId;
  if (withRoles && p.roles.length > 0) body.roles = p.roles.map(roleId);
  body.created = p.created;
  body.lastModified = p.created;
  body.lastActivity = p.created;
  body.status = 'active';
  body.type = p.type;
  return body;
}

/** A Room object as seen by `viewer` (a direct room's title is the other person's name). */
export function roomJson(state: EmulatorState, r: RoomRec, viewer: PersonRec): Record<string, unknown> {
  let title = r.title;
  if (r.type === 'direct') {
    for (const uuid of r.members.keys())
      if (uuid !== viewer.uuid) title = state.personByUuid(uuid)?.displayName ?? title;
  }
  return {
    id: r.id,
    title,
    type: r.type,
    isLocked: false,
    lastActivity: r.lastActivity,
    creatorId: r.creatorId,
    created: r.created,
    ownerId: r.ownerId,
    isAnnouncementOnly: false,
    isReadOnly: false,
  };
}

/** A Membership object. */
export function membershipJson(state: EmulatorState, room: RoomRec, m: MembershipRec): Record<string, unknown> {
  const p = state.personByUuid(m.personUuid);
  return {
    id: m.id,
    roomId: m.roomId,
    personId: p?.id,
    personEmail: p?.email,
    personDisplayName: p?.displayName,
    personOrgId: p?.orgId,
    isModerator: m.isModerator,
    isMonitor: false,
    isRoomHidden: m.isRoomHidden ?? false,
    roomType: room.type,
    created: m.created,
  };
}

/** A Message object. */
export function messageJson(state: EmulatorState, room: RoomRec, m: MessageRec): Record<string, unknown> {
  const p = state.personByUuid(m.personUuid);
  const body: Record<string, unknown> = { id: m.id };
  if (m.parentId) body.parentId = m.parentId;
  body.roomId = room.id;
  body.roomType = room.type;
  if (m.toPersonId) body.toPersonId = m.toPersonId;
  if (m.toPersonEmail) body.toPersonEmail = m.toPersonEmail;
  if (m.text !== undefined) body.text = m.text;
  if (m.markdown !== undefined) body.markdown = m.markdown;
  if (m.html !== undefined) body.html = m.html;
  if (m.files?.length) body.files = m.files;
  body.personId = p?.id;
  body.personEmail = p?.email;
  if (m.mentionedPeople?.length) body.mentionedPeople = m.mentionedPeople;
  body.created = m.created;
  body.updated = m.updated ?? m.created;
  body.isVoiceClip = false;
  return body;
}
