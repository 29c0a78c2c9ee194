/**
 * The broker API's request schemas: what each route validates (params, query, body), with zod through
 * fastify-type-provider-zod's validator, set on the broker's scope only. What the routes answer is documented by
 * responses.ts, made only for the OpenAPI document (openapi.ts); both make that document, so it cannot drift from the
 * validation.
 */
import * as z from 'zod';

/** A printable string: no control characters (a guest's `subject` and `displayName`). */
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;

/** `{id}` of every `/api/v1/connections/{id}/…` route. */
export const connectionIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_-]+$/)
    .describe('The connection id.'),
});

/** `GET …/token`'s query. */
export const tokenQuery = z.object({
  min_validity: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(60)
    .describe('Seconds the returned token must still be valid for; refreshed first when it has less.'),
});

/** `POST …/guests`: who the guest is (Webex's own field names). */
export const guestBody = z.strictObject({
  subject: z.string().min(1).max(256).regex(PRINTABLE).describe('Your own stable id for the guest.'),
  displayName: z.string().min(1).max(256).regex(PRINTABLE).describe('The name Webex shows for the guest.'),
});

/** `ANY …/proxy/{path}`: the connection id and the Webex API path (checked further by proxy-path.ts). */
export const proxyParams = connectionIdParams.extend({
  '*': z.string().describe('A Webex API path, e.g. `people/me` or `rooms/{roomId}`.'),
});

/** `ANY …/proxy/{path}` (every method documented alike; its answers are responses.ts `proxyResponses`). */
export const proxySchema = {
  summary:
    "Call Webex as the connection: the connection's API base + `/{path}`, with the query, body and headers sent.",
  description:
    "Needs the `proxy` permission, and the key's path prefixes and methods when it has them. `{path}` may hold several segments (`rooms/{roomId}`); `.`/`..`/empty segments, encoded slashes and backslashes are refused (400). Webex's answer comes back unchanged (status, `trackingid`, `Retry-After`, body), `Link` URLs rewritten to this route. A 401 from Webex is retried once after one shared refresh (bodies up to `PROXY_BUFFER_LIMIT`); a 429 is passed through, or waited out once up to `PROXY_MAX_RETRY_WAIT`. In team mode only Webex, the server's own API base and `ALLOWED_API_BASES` bases are called.",
  params: proxyParams,
};
