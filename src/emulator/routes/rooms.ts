/** `GET/POST /v1/rooms`, `GET /v1/rooms/{roomId}` (scopes `spark:rooms_read` / `spark:rooms_write`). */
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { EmulatorContext } from '../context.js';
import { MSG_NO_ROOM, restError, sendJson } from '../envelope.js';
import { roomJson } from '../views/json.js';
import { webhooks } from '../webhooks/hub.js';
import { authenticate, beginList, paginate, readJsonBody, requiredScopes } from './rest.js';

const createRoom = z.object({ title: z.string().trim().min(1).max(200), teamId: z.string().max(300).optional() });

/** Registers the rooms endpoints. */
export async function roomRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const readScopes = requiredScopes('GET', '/rooms');
  const writeScopes = requiredScopes('POST', '/rooms');

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
    if (!room || !room.members.has(caller.person.uuid)) return restError(request, reply, 404, MSG_NO_ROOM);
    return sendJson(reply, 200, roomJson(ctx.state, room, caller.person));
  });

  app.post('/v1/rooms', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, writeScopes);
    if (!caller) return reply;
    const body = readJsonBody(request, reply, createRoom);
    if (!body) return reply;
    const room = ctx.state.addRoom(body.title, 'group', [caller.person]);
    webhooks(ctx).roomCreated(caller.person, room);
    return sendJson(reply, 200, roomJson(ctx.state, room, caller.person));
  });
}
