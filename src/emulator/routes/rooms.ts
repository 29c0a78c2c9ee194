/**
 * `GET/POST /v1/rooms`, `GET/PUT/DELETE /v1/rooms/{roomId}` (scopes `spark:rooms_read` / `spark:rooms_write`). `PUT`
 * renames a group space (`title` is required, Webex's other room settings are accepted and ignored). `DELETE` deletes
 * the space with its messages; in a space that has moderators, a member who is not one is removed from it instead,
 * as on Webex.
 */
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { EmulatorContext } from '../context.js';
import { MSG_NO_ROOM, restError, sendJson } from '../envelope.js';
import type { RoomRec } from '../state.js';
import { roomJson } from '../views/json.js';
import { webhooks } from '../webhooks/hub.js';
import { authenticate, beginList, paginate, readJsonBody, requiredScopes } from './rest.js';

const title = z.string().trim().min(1).max(200);
const createRoom = z.object({ title, teamId: z.string().max(300).optional() });
const updateRoom = z.object({ title });

/** Registers the rooms endpoints. */
export async function roomRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const readScopes = requiredScopes('GET', '/rooms');
  const writeScopes = requiredScopes('POST', '/rooms');
  const updateScopes = requiredScopes('PUT', '/rooms/{roomId}');
  const deleteScopes = requiredScopes('DELETE', '/rooms/{roomId}');

  app.get('/v1/rooms', { config: { fault: 'rest' } }, async (request, reply) => {
    const list = beginList(ctx, request, reply, readScopes, () => ({ defaultMax: 100, limit: 1000 }));
    if (!list) return reply;
    const { caller, q, max, offset } = list;
    if (q.type !== undefined && q.type !== 'direct' && q.type !== 'group')
      return restError(request, reply, 400, "type must be 'direct' or 'group'.");
    if (q.sortBy !== undefined && !['id', 'lastactivity', 'created'].includes(q.sortBy))
      return restError(request, reply, 400, "sortBy must be 'id', 'lastactivity' or 'created'.");
    let rooms = [...ctx.state.rooms.values()].filter(
      (r) => r.members.has(caller.person.uuid) && (!q.type || r.type === q.type) && !q.teamId,
    );
    if (q.sortBy === 'lastactivity') rooms = rooms.sort((a, b) => b.lastActivity.localeCompare(a.lastActivity));
    else if (q.sortBy === 'created') rooms = rooms.sort((a, b) => b.created.localeCompare(a.created));
    else if (q.sortBy === 'id') rooms = rooms.sort((a, b) => a.id.localeCompare(b.id));
    const page = paginate(request, reply, rooms, offset, max);
    return sendJson(reply, 200, { items: page.map((r) => roomJson(ctx.state, r, caller.person)) });
  });

  app.get('/v1/rooms/:roomId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, readScopes);
    if (!caller) return reply;
    const room = ctx.state.rooms.get((request.params as { roomId: string }).roomId);
    if (!room?.members.has(caller.person.uuid)) return restError(request, reply, 404, MSG_NO_ROOM);
    return sendJson(reply, 200, roomJson(ctx.state, room, caller.person));
  });

  app.post('/v1/rooms', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, writeScopes);
    if (!caller) return reply;
    const body = readJsonBody(request, reply, createRoom);
    if (!body) return reply;
    const room = ctx.state.addRoom(body.title, 'group', [caller.person]);
    webhooks(ctx).roomEvent('created', caller.person, room);
    return sendJson(reply, 200, roomJson(ctx.state, room, caller.person));
  });

  app.put('/v1/rooms/:roomId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, updateScopes);
    if (!caller) return reply;
    const body = readJsonBody(request, reply, updateRoom);
    if (!body) return reply;
    const room = ctx.state.rooms.get((request.params as { roomId: string }).roomId);
    if (!room?.members.has(caller.person.uuid)) return restError(request, reply, 404, MSG_NO_ROOM);
    if (room.type === 'direct') return restError(request, reply, 400, 'The title of a direct room cannot be changed.');
    if (!mayModerate(room, caller.person.uuid))
      return restError(request, reply, 403, 'Only a moderator can change this room.');
    room.title = body.title;
    webhooks(ctx).roomEvent('updated', caller.person, room);
    return sendJson(reply, 200, roomJson(ctx.state, room, caller.person));
  });

  app.delete('/v1/rooms/:roomId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, deleteScopes);
    if (!caller) return reply;
    const room = ctx.state.rooms.get((request.params as { roomId: string }).roomId);
    const m = room?.members.get(caller.person.uuid);
    if (!room || !m) return restError(request, reply, 404, MSG_NO_ROOM);
    if (room.type === 'direct') return restError(request, reply, 400, 'A direct room cannot be deleted.');
    if (!mayModerate(room, caller.person.uuid)) {
      // Webex's guard against accidental deletion: the member leaves instead.
      room.members.delete(caller.person.uuid);
      webhooks(ctx).membershipEvent('deleted', caller.person, room, m);
      return reply.code(204).send();
    }
    webhooks(ctx).roomEvent('deleted', caller.person, room);
    ctx.state.deleteRoom(room);
    return reply.code(204).send();
  });
}

/** Whether a member may change or delete a group space: anyone when it has no moderators, else moderators only. */
function mayModerate(room: RoomRec, personUuid: string): boolean {
  const moderated = [...room.members.values()].some((m) => m.isModerator);
  return !moderated || room.members.get(personUuid)?.isModerator === true;
}
