/**
 * The broker API's zod schemas: what each route validates (params, query, body) and what it answers. The same schemas
 * validate requests (fastify-type-provider-zod's validator, set on the broker's scope only) and make the OpenAPI
 * document (openapi.ts), so the document cannot drift from the validation.
 */
import * as z from 'zod';
import { PROBLEM_CODES } from './problem.js';

/** The component schemas of the OpenAPI document (`#/components/schemas/<id>`), kept out of zod's global registry. */
export const brokerSchemaRegistry = z.registry<{ id: string; description?: string }>();

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

/** The problem codes (problem.ts). */
const problemCode = z.enum(PROBLEM_CODES);

const reauthReason = z.enum(['refresh_refused', 'revoked_at_webex', 'deauthorized']);

/** RFC 9457 problem details with a stable `code` (problem.ts `Problem`). */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: problemCode,
  detail: z.string().optional(),
  instance: z.string().optional(),
  reason: reauthReason.optional().describe('With `needs_reauth`: why the connection can no longer be refreshed.'),
});
brokerSchemaRegistry.add(problemSchema, { id: 'Problem' });

const personSchema = z.object({ id: z.string(), email: z.string(), display_name: z.string() });
brokerSchemaRegistry.add(personSchema, { id: 'Person' });

const dateTime = z.iso.datetime();

/** The API view of a connection (broker.ts `connectionJson`). */
export const connectionSchema = z.object({
  id: z.string(),
  integration_id: z.string(),
  kind: z
    .enum(['integration', 'service_app', 'bot'])
    .describe(
      "A person's integration grant, a Service App's machine account in one org, or a bot (whose token does not expire: its expiries are 100 years on).",
    ),
  person: personSchema,
  org_id: z.string().optional(),
  app_id: z.string().optional().describe('`service_app`: the Webex application id.'),
  scopes: z.array(z.string()),
  status: z.enum(['active', 'needs_reauth']),
  needs_reauth_reason: reauthReason.nullable(),
  access_token_expires_at: dateTime,
  refresh_token_expires_at: dateTime,
  last_refresh_at: dateTime.nullable(),
  last_error: z.string().nullable(),
  refresh_failing: z.boolean().describe('Refreshes fail on 5xx/429/network and back off.'),
  next_refresh_attempt_at: dateTime.nullable(),
});
brokerSchemaRegistry.add(connectionSchema, { id: 'Connection' });

/** `GET …/token`'s answer. */
export const tokenSchema = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_at: dateTime,
  expires_in: z.number().int(),
  scopes: z.array(z.string()),
  min_validity_met: z
    .boolean()
    .describe(
      'false: the token lives less than `min_validity` (Webex grants no longer ones); it is the freshest there is.',
    ),
  person: personSchema,
});
brokerSchemaRegistry.add(tokenSchema, { id: 'Token' });

/** `GET /api/v1/connections`'s answer. */
export const connectionListSchema = z.object({ connections: z.array(connectionSchema) });

/** `POST …/refresh`'s answer. */
export const refreshedSchema = z.object({ connection: connectionSchema });

/** `POST …/guests`'s answer. */
export const guestTokenSchema = z.object({ access_token: z.string(), expires_at: dateTime });

/** `DELETE …`'s answer: 204, no body. */
export const deletedSchema = z.null().describe('Deleted.');

/** A 200 answer documented as `application/json`. */
export function ok<T extends z.ZodType>(schema: T) {
  return { description: 'OK', content: { 'application/json': { schema } } };
}

/** A problem answer documented as `application/problem+json`, described by its codes. */
export function problem(description: string) {
  return { description, content: { 'application/problem+json': { schema: problemSchema } } };
}

/** The problem answers every authenticated connection route may give. */
export const commonProblems = {
  401: problem('`unauthorized`: missing or invalid API key.'),
  403: problem(
    '`forbidden`: the key was not made for this connection, or lacks the permission this route needs (the `detail` names it, e.g. `This API key lacks the "refresh" permission.`).',
  ),
  404: problem('`not_found`.'),
  429: problem('`rate_limited`, with `Retry-After`.'),
};

/** `ANY …/proxy/{path}` (every method documented alike). */
export const proxySchema = {
  summary:
    "Call Webex as the connection: the connection's API base + `/{path}`, with the query, body and headers sent.",
  description:
    "Needs the `proxy` permission, and the key's path prefixes and methods when it has them. `{path}` may hold several segments (`rooms/{roomId}`); `.`/`..`/empty segments, encoded slashes and backslashes are refused (400). Webex's answer comes back unchanged (status, `trackingid`, `Retry-After`, body), `Link` URLs rewritten to this route. A 401 from Webex is retried once after one shared refresh (bodies up to `PROXY_BUFFER_LIMIT`); a 429 is passed through, or waited out once up to `PROXY_MAX_RETRY_WAIT`. In team mode only Webex, the server's own API base and `ALLOWED_API_BASES` bases are called.",
  params: proxyParams,
  response: {
    default: z.unknown().describe("Webex's answer, unchanged (its errors included)."),
    400: problem('`invalid_request`: the connection id or the path was refused.'),
    ...commonProblems,
    409: problem('`needs_reauth`.'),
    413: problem('`payload_too_large`: the body is above `PROXY_MAX_BODY`.'),
    502: problem('`upstream_unavailable`: Webex could not be reached, with `Retry-After`.'),
    504: problem('`upstream_timeout`: Webex sent no answer within `PROXY_HEADERS_TIMEOUT`, with `Retry-After`.'),
  },
};
