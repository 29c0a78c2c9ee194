/**
 * What the broker API's routes answer, as zod schemas for its OpenAPI document (openapi.ts) — never run per request
 * (an answer is serialized as Fastify does without a schema). This module is loaded with the document's first
 * request, not at start: building these schemas at every start was ~30 M instructions, ~4 % of `serve`'s start to
 * `/readyz` (bench/limits.md "serve start"). test/broker/openapi.test.ts checks real answers against them.
 */
import * as z from 'zod';
import { PROBLEM_CODES } from './problem.js';

/** The component schemas of the OpenAPI document (`#/components/schemas/<id>`), kept out of zod's global registry. */
export const brokerSchemaRegistry = z.registry<{ id: string; description?: string }>();

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

/** `ANY …/proxy/{path}`'s answers (every method documented alike). */
export const proxyResponses = {
  default: z.unknown().describe("Webex's answer, unchanged (its errors included)."),
  400: problem('`invalid_request`: the connection id or the path was refused.'),
  ...commonProblems,
  409: problem('`needs_reauth`.'),
  413: problem('`payload_too_large`: the body is above `PROXY_MAX_BODY`.'),
  502: problem('`upstream_unavailable`: Webex could not be reached, with `Retry-After`.'),
  504: problem('`upstream_timeout`: Webex sent no answer within `PROXY_HEADERS_TIMEOUT`, with `Retry-After`.'),
};
