/**
 * `POST /space/webhook`: where Webex delivers the space demo's webhook. A machine endpoint: open to anyone and exempt
 * from the CSRF check (a delivery carries no form token), answered only when `X-Spark-Signature` is the HMAC-SHA1 of
 * the raw body under the secret of the webhook the delivery names (one this process registered). Small bodies only.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { SpaceLive } from './live.js';
import { SPACE_WEBHOOK_PATH } from './target.js';
import { deliverySchema, validSparkSignature } from './webhooks.js';

/** The largest delivery accepted (Webex's are well under 2 KB: the message text is not in them). */
export const MAX_DELIVERY_BYTES = 16 * 1024;

const problem = (status: number, title: string, code: string) => ({ type: 'about:blank', title, status, code });

/** Registers the webhook receiver of the live space page. */
export const spaceWebhookRoutes: FastifyPluginAsync<{ live: SpaceLive }> = async (app: FastifyInstance, { live }) => {
  // This plugin's own JSON parser keeps the raw bytes: the signature is over them, not over a re-serialization.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post(
    SPACE_WEBHOOK_PATH,
    { bodyLimit: MAX_DELIVERY_BYTES, config: { access: 'anyone', csrf: false } },
    async (request, reply) => {
      const body = request.body;
      let json: unknown;
      try {
        json = Buffer.isBuffer(body) ? JSON.parse(body.toString('utf8')) : undefined;
      } catch {
        json = undefined;
      }
      // Each webhook has its own secret: the delivery's webhook id says which one checks it (an unknown id, or a body
      // without one, cannot be checked and is refused the same way).
      const webhookId = (json as { id?: unknown } | undefined)?.id;
      const secret = typeof webhookId === 'string' ? live.webhookSecret(webhookId) : undefined;
      if (
        !Buffer.isBuffer(body) ||
        secret === undefined ||
        !validSparkSignature(body, request.headers['x-spark-signature'], secret)
      ) {
        return reply
          .code(401)
          .type('application/problem+json')
          .send(problem(401, 'Invalid signature', 'invalid_signature'));
      }
      const delivery = deliverySchema.safeParse(json);
      if (!delivery.success) {
        return reply
          .code(400)
          .type('application/problem+json')
          .send(problem(400, 'Invalid delivery', 'invalid_request'));
      }
      // Answered at once; the message is read and pushed after (Webex retries a slow receiver).
      void live.delivered(delivery.data);
      return reply.code(204).send();
    },
  );
};
