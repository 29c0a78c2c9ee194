/**
 * `GET/POST /v1/memberships`, `GET/PUT/DELETE /v1/memberships/{id}` (scopes `spark:memberships_read` / `_write`). A
 * bot adding a person to a space is what the space demo needs; a duplicate is 409 `Person is already in the room.`
 * `PUT` sets `isModerator` (group spaces; once a space has moderators only they may change it) and `isRoomHidden`
 * (the caller's own membership of a direct space).
 */
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { EmulatorContext } from '../context.js';
import { MSG_NO_ROOM, restError, sendJson } from '../envelope.js';
import { parseRestId } from '../ids.js';
import type { MembershipRec, RoomRec } from '../state.js';
import { membershipJson } from '../views/json.js';
import { webhooks } from '../webhooks/hub.js';
import { authenticate, beginList, paginate, readJsonBody, requiredScopes } from './rest.js';

const createMembership = z
  .object({
    roomId: z.string().min(1).max(300),
    personId: z.string().min(1).max(300).optional(),
    personEmail: z.string().min(3).max(320).optional(),
    isModerator: z.boolean().optional(),
  })
  .refine((b) => (b.personId === undefined) !== (b.personEmail === undefined), {
    message: 'Exactly one of personId or personEmail is required.',
  });

const updateMembership = z.object({ isModerator: z.boolean(), isRoomHidden: z.boolean().optional() });

/** Registers the memberships endpoints. */
export async function membershipRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const readScopes = requiredScopes('GET', '/memberships');
  const writeScopes = requiredScopes('POST', '/memberships');
  const updateScopes = requiredScopes('PUT', '/memberships/{membershipId}');
  const deleteScopes = requiredScopes('DELETE', '/memberships/{membershipId}');

  app.get('/v1/memberships', { config: { fault: 'rest' } }, async (request, reply) => {
    const list = beginList(ctx, request, reply, readScopes, () => ({ defaultMax: 100, limit: 1000 }));
    if (!list) return reply;
    const { caller, q, max, offset } = list;
    if ((q.personId || q.personEmail) && !q.roomId)
      return restError(request, reply, 400, 'personId and personEmail require roomId.');
    let rooms: RoomRec[];
    if (q.roomId) {
      const room = ctx.state.rooms.get(q.roomId);
      if (!room?.members.has(caller.person.uuid)) return restError(request, reply, 404, MSG_NO_ROOM);
      rooms = [room];
    } else rooms = [...ctx.state.rooms.values()].filter((r) => r.members.has(caller.person.uuid));
    const items: { room: RoomRec; m: MembershipRec }[] = [];
    for (const room of rooms)
      for (const m of room.members.values()) {
        if (!q.roomId && m.personUuid !== caller.person.uuid) continue;
        const p = ctx.state.personByUuid(m.personUuid);
        if (q.personId && p?.id !== q.personId) continue;
        if (q.personEmail && p?.email.toLowerCase() !== q.personEmail.toLowerCase()) continue;
        items.push({ room, m });
      }
    const page = paginate(request, reply, items, offset, max);
    return sendJson(reply, 200, { items: page.map(({ room, m }) => membershipJson(ctx.state, room, m)) });
  });

  app.post('/v1/memberships', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, writeScopes);
    if (!caller) return reply;
    const body = readJsonBody(request, reply, createMembership);
    if (!body) return reply;
    const room = ctx.state.rooms.get(body.roomId);
    if (!room?.members.has(caller.person.uuid)) return restError(request, reply, 404, MSG_NO_ROOM);
    if (room.type === 'direct') return restError(request, reply, 400, 'Cannot add people to a direct room.');
    const person = body.personEmail
      ? ctx.state.personByEmail(body.personEmail)
      : ctx.state.people.get(body.personId ?? '');
    if (!person) return restError(request, reply, 404, 'Could not find a person with provided ID or email.');
    if (room.members.has(person.uuid)) return restError(request, reply, 409, 'Person is already in the room.');
    const m = ctx.state.addMember(room, person, body.isModerator ?? false);
    webhooks(ctx).membershipEvent('created', caller.person, room, m);
    return sendJson(reply, 200, membershipJson(ctx.state, room, m));
  });

  app.get('/v1/memberships/:membershipId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, readScopes);
    if (!caller) return reply;
    const found = findMembership(ctx, (request.params as { membershipId: string }).membershipId);
    if (!found?.room.members.has(caller.person.uuid)) return restError(request, reply, 404, 'Membership not found.');
    return sendJson(reply, 200, membershipJson(ctx.state, found.room, found.m));
  });

  app.put('/v1/memberships/:membershipId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, updateScopes);
    if (!caller) return reply;
    const body = readJsonBody(request, reply, updateMembership);
    if (!body) return reply;
    const found = findMembership(ctx, (request.params as { membershipId: string }).membershipId);
    if (!found?.room.members.has(caller.person.uuid)) return restError(request, reply, 404, 'Membership not found.');
    const { room, m } = found;
    const moderatorChange = body.isModerator !== m.isModerator;
    if (moderatorChange && room.type === 'direct')
      return restError(request, reply, 400, 'A direct room has no moderators.');
    const moderated = [...room.members.values()].some((x) => x.isModerator);
    if (moderatorChange && moderated && room.members.get(caller.person.uuid)?.isModerator !== true)
      return restError(request, reply, 403, 'Only a moderator can change moderators.');
    const hiddenChange = body.isRoomHidden !== undefined && body.isRoomHidden !== (m.isRoomHidden ?? false);
    if (hiddenChange && (room.type !== 'direct' || m.personUuid !== caller.person.uuid))
      return restError(request, reply, 400, 'isRoomHidden applies only to your own membership of a direct room.');
    m.isModerator = body.isModerator;
    if (body.isRoomHidden !== undefined && room.type === 'direct') m.isRoomHidden = body.isRoomHidden;
    if (moderatorChange || hiddenChange) webhooks(ctx).membershipEvent('updated', caller.person, room, m);
    return sendJson(reply, 200, membershipJson(ctx.state, room, m));
  });

  app.delete('/v1/memberships/:membershipId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, deleteScopes);
    if (!caller) return reply;
    const found = findMembership(ctx, (request.params as { membershipId: string }).membershipId);
    if (!found?.room.members.has(caller.person.uuid)) return restError(request, reply, 404, 'Membership not found.');
    found.room.members.delete(found.m.personUuid);
    webhooks(ctx).membershipEvent('deleted', caller.person, found.room, found.m);
    return reply.code(204).send();
  });
}

function findMembership(ctx: EmulatorContext, id: string): { room: RoomRec; m: MembershipRec } | undefined {
  const parsed = parseRestId(id);
  if (parsed?.type !== 'MEMBERSHIP') return undefined;
  const [personUuid, roomUuid] = parsed.uuid.split(':');
  for (const room of ctx.state.rooms.values())
    if (room.uuid === roomUuid) {
      const m = room.members.get(personUuid ?? '');
      return m ? { room, m } : undefined;
    }
  return undefined;
}
