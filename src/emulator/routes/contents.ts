/**
 * `GET /v1/contents/{contentId}` (scope `spark:messages_read` or `spark:all`): the bytes of a file posted with a
 * message, with its `Content-Type` and `Content-Disposition: attachment; filename="…"`, to members of the message's
 * room; anyone else gets 404. HEAD answers the same headers without the body (Fastify's automatic HEAD route).
 */
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { restError } from '../envelope.js';
import { authenticate, requiredScopes } from './rest.js';

/** `attachment; filename="…"` with an ASCII fallback and the UTF-8 name in `filename*` (RFC 6266). */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Registers the contents endpoint. */
export async function contentRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const scopes = requiredScopes('GET', '/contents/{contentId}');

  app.get('/v1/contents/:contentId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, scopes);
    if (!caller) return reply;
    const content = ctx.state.contents.get((request.params as { contentId: string }).contentId);
    const room = content && [...ctx.state.rooms.values()].find((r) => r.uuid === content.roomUuid);
    if (!content || !room?.members.has(caller.person.uuid))
      return restError(request, reply, 404, 'Could not find a content with provided ID.');
    return reply
      .code(200)
      .header('Content-Type', content.contentType)
      .header('Content-Disposition', contentDisposition(content.filename))
      .header('Content-Length', String(content.bytes.length))
      .send(content.bytes);
  });
}
