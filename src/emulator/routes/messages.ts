/**
 * `GET/POST /v1/messages`, `GET/PUT/DELETE /v1/messages/{id}` (scopes `spark:messages_read` / `_write`). Listing needs
 * `roomId` (400 `Required String parameter 'roomId' is not present`), newest first. An edit (`PUT`) names the message's
 * `roomId` and new `text` and/or `markdown`; only the author may edit, at most {@link MAX_EDITS} times, and never a
 * message posted with files or attachments (Webex answers 400 for both limits). A post is JSON, or multipart/form-data
 * with the same text fields and at most one file in `files` (multipart.ts); the message's `files` then holds its
 * `/v1/contents/{contentId}` URL.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { EmulatorContext } from '../context.js';
import { MSG_NO_ROOM, restError, sendJson } from '../envelope.js';
import { restId } from '../ids.js';
import { readMultipart, type UploadedFile } from '../multipart.js';
import type { MessageRec, PersonRec, RoomRec } from '../state.js';
import { messageJson } from '../views/json.js';
import { mentionsIn, webhooks } from '../webhooks/hub.js';
import { authenticate, beginList, paginate, readJsonBody, requiredScopes, validateBody } from './rest.js';

const MAX_TEXT_BYTES = 7439;
/** The placeholder `files` URL of a multipart upload while the body is validated. */
const UPLOAD = 'http://upload.invalid/';
/** Webex allows a message to be edited at most this many times. */
export const MAX_EDITS = 10;
const MSG_NO_MESSAGE = 'Could not find a message with provided ID.';
const textField = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s) <= MAX_TEXT_BYTES, `must be at most ${MAX_TEXT_BYTES} bytes`);

const createMessage = z
  .object({
    roomId: z.string().min(1).max(300).optional(),
    toPersonId: z.string().min(1).max(300).optional(),
    toPersonEmail: z.string().min(3).max(320).optional(),
    parentId: z.string().min(1).max(300).optional(),
    text: textField.optional(),
    markdown: textField.optional(),
    files: z.array(z.string().url().max(2048)).max(1).optional(),
    attachments: z.array(z.record(z.string(), z.unknown())).max(1).optional(),
  })
  .refine((b) => [b.roomId, b.toPersonId, b.toPersonEmail].filter((x) => x !== undefined).length === 1, {
    message: 'Exactly one of roomId, toPersonId or toPersonEmail is required.',
  })
  .refine((b) => b.text !== undefined || b.markdown !== undefined || b.files !== undefined, {
    message: 'text, markdown or files is required.',
  });

const editMessage = z
  .object({
    roomId: z.string().min(1).max(300),
    text: textField.optional(),
    markdown: textField.optional(),
    html: z.string().max(MAX_TEXT_BYTES).optional(),
  })
  .refine((b) => b.text !== undefined || b.markdown !== undefined, { message: 'text or markdown is required.' })
  .refine((b) => b.html === undefined || b.markdown === undefined, {
    message: 'html must not be sent with markdown (drop the html of a fetched message before editing it).',
  });

/** The stored content of a message from its `text`/`markdown` (the text falls back to the markdown). */
function content(body: { text?: string; markdown?: string }): Pick<MessageRec, 'text' | 'markdown' | 'html'> {
  return {
    text: body.text ?? body.markdown,
    markdown: body.markdown,
    html: body.markdown !== undefined ? `<p>${escapeText(body.markdown)}</p>` : undefined,
  };
}

function escapeText(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/** Registers the messages endpoints. */
export async function messageRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const readScopes = requiredScopes('GET', '/messages');
  const writeScopes = requiredScopes('POST', '/messages');
  const editScopes = requiredScopes('PUT', '/messages/{messageId}');
  const deleteScopes = requiredScopes('DELETE', '/messages/{messageId}');

  /** A message and its room, when `viewer` is a member of that room. */
  function readable(id: string, viewer: PersonRec): { msg: MessageRec; room: RoomRec } | undefined {
    const msg = ctx.state.messages.find((m) => m.id === id);
    const room = msg && [...ctx.state.rooms.values()].find((r) => r.uuid === msg.roomUuid);
    return msg && room?.members.has(viewer.uuid) ? { msg, room } : undefined;
  }

  function directRoom(a: PersonRec, b: PersonRec): RoomRec {
    for (const r of ctx.state.rooms.values())
      if (r.type === 'direct' && r.members.has(a.uuid) && r.members.has(b.uuid)) return r;
    const room = ctx.state.addRoom(b.displayName, 'direct', [a, b]);
    webhooks(ctx).roomEvent('created', a, room);
    return room;
  }

  app.get('/v1/messages', { config: { fault: 'rest' } }, async (request, reply) => {
    const list = beginList(ctx, request, reply, readScopes, (q) => ({
      defaultMax: 50,
      limit: q.mentionedPeople ? 100 : 1000,
    }));
    if (!list) return reply;
    const { caller, q, max, offset } = list;
    if (!q.roomId) return restError(request, reply, 400, "Required String parameter 'roomId' is not present");
    const room = ctx.state.rooms.get(q.roomId);
    if (!room?.members.has(caller.person.uuid)) return restError(request, reply, 404, MSG_NO_ROOM);
    let before = Number.POSITIVE_INFINITY;
    if (q.before !== undefined) {
      const t = Date.parse(q.before);
      if (Number.isNaN(t)) return restError(request, reply, 400, 'before must be an ISO 8601 date.');
      before = t;
    }
    let beforeSeq = Number.POSITIVE_INFINITY;
    if (q.beforeMessage !== undefined) {
      const m = ctx.state.messages.find((x) => x.id === q.beforeMessage);
      if (!m) return restError(request, reply, 404, MSG_NO_MESSAGE);
      beforeSeq = m.seq;
    }
    const mentioned = q.mentionedPeople === 'me' ? caller.person.id : q.mentionedPeople;
    const items = ctx.state.messages
      .filter(
        (m) =>
          m.roomUuid === room.uuid &&
          m.seq < beforeSeq &&
          Date.parse(m.created) < before &&
          (!mentioned || m.mentionedPeople?.includes(mentioned)) &&
          (q.parentId === undefined || m.parentId === q.parentId),
      )
      .reverse();
    const page = paginate(request, reply, items, offset, max);
    return sendJson(reply, 200, { items: page.map((m) => messageJson(ctx.state, room, m)) });
  });

  app.post('/v1/messages', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, writeScopes);
    if (!caller) return reply;
    const type = request.headers['content-type'] ?? '';
    let upload: UploadedFile | undefined;
    let body: z.output<typeof createMessage> | undefined;
    if (/^multipart\/form-data/i.test(type)) {
      const form = await readMultipart(request.body, type, ctx.options.maxUploadBytes);
      if (!form.ok) return restError(request, reply, form.status, form.message);
      upload = form.file;
      // The uploaded file stands in for a `files` URL until it is stored (after the room check).
      body = validateBody(request, reply, createMessage, { ...form.fields, files: upload ? [UPLOAD] : undefined });
    } else body = readJsonBody(request, reply, createMessage);
    if (!body) return reply;
    let room: RoomRec | undefined;
    let to: PersonRec | undefined;
    if (body.roomId) {
      room = ctx.state.rooms.get(body.roomId);
      if (!room?.members.has(caller.person.uuid)) return restError(request, reply, 404, MSG_NO_ROOM);
    } else {
      to = body.toPersonEmail
        ? ctx.state.personByEmail(body.toPersonEmail)
        : ctx.state.people.get(body.toPersonId ?? '');
      if (!to) return restError(request, reply, 404, 'Could not find a person with provided ID or email.');
      room = directRoom(caller.person, to);
    }
    let files = body.files;
    if (upload) {
      const id = restId('CONTENT', randomUUID());
      ctx.state.contents.set(id, { id, roomUuid: room.uuid, ...upload });
      files = [`${request.protocol}://${request.host}/v1/contents/${id}`];
    }
    const msg = ctx.state.addMessage(room, caller.person, {
      ...content(body),
      files,
      hasFiles: body.files !== undefined || body.attachments !== undefined ? true : undefined,
      parentId: body.parentId,
      toPersonId: to?.id,
      toPersonEmail: to?.email,
      mentionedPeople: mentionsIn(ctx, room, body.markdown),
    });
    webhooks(ctx).messageEvent('created', caller.person, room, msg);
    return sendJson(reply, 200, messageJson(ctx.state, room, msg));
  });

  app.get('/v1/messages/:messageId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, readScopes);
    if (!caller) return reply;
    const found = readable((request.params as { messageId: string }).messageId, caller.person);
    if (!found) return restError(request, reply, 404, MSG_NO_MESSAGE);
    return sendJson(reply, 200, messageJson(ctx.state, found.room, found.msg));
  });

  app.put('/v1/messages/:messageId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, editScopes);
    if (!caller) return reply;
    const body = readJsonBody(request, reply, editMessage);
    if (!body) return reply;
    const found = readable((request.params as { messageId: string }).messageId, caller.person);
    if (!found) return restError(request, reply, 404, MSG_NO_MESSAGE);
    const { msg, room } = found;
    if (body.roomId !== room.id) return restError(request, reply, 400, "roomId is not the message's room.");
    if (msg.personUuid !== caller.person.uuid)
      return restError(request, reply, 403, 'Only the person who posted a message can edit it.');
    if (msg.hasFiles)
      return restError(request, reply, 400, 'Editing a message with files or attachments is not supported.');
    if ((msg.edits ?? 0) >= MAX_EDITS)
      return restError(request, reply, 400, `The message has reached its edit limit (${MAX_EDITS} edits).`);
    Object.assign(msg, content(body), {
      mentionedPeople: mentionsIn(ctx, room, body.markdown),
      updated: ctx.state.iso(),
      edits: (msg.edits ?? 0) + 1,
    });
    webhooks(ctx).messageEvent('updated', caller.person, room, msg);
    return sendJson(reply, 200, messageJson(ctx.state, room, msg));
  });

  app.delete('/v1/messages/:messageId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, deleteScopes);
    if (!caller) return reply;
    const id = (request.params as { messageId: string }).messageId;
    const index = ctx.state.messages.findIndex((m) => m.id === id && m.personUuid === caller.person.uuid);
    if (index < 0) return restError(request, reply, 404, MSG_NO_MESSAGE);
    const [msg] = ctx.state.messages.splice(index, 1);
    const room = msg && [...ctx.state.rooms.values()].find((r) => r.uuid === msg.roomUuid);
    if (msg && room) webhooks(ctx).messageEvent('deleted', caller.person, room, msg);
    return reply.code(204).send();
  });
}
