/**
 * RFC 9457 problem details for the broker API: `application/problem+json` with a stable machine-readable `code`.
 * Details never contain a secret.
 */
import type { FastifyReply } from 'fastify';

/** The broker's stable error codes. */
export type ProblemCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'needs_reauth'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_error'
  | 'invalid_request'
  | 'rate_limited'
  | 'payload_too_large'
  | 'vault_key'
  | 'vault_key_unavailable'
  | 'internal';

const TITLES: Record<ProblemCode, string> = {
  unauthorized: 'Missing or invalid API key',
  forbidden: 'This API key may not use this connection',
  not_found: 'Not found',
  needs_reauth: 'The connection needs re-authorization',
  upstream_unavailable: 'Webex is unavailable',
  upstream_timeout: 'Webex did not answer in time',
  upstream_error: 'Webex refused the refresh',
  invalid_request: 'Invalid request',
  rate_limited: 'Too many requests',
  payload_too_large: 'Request body too large',
  vault_key: 'The vault cannot decrypt its secrets',
  vault_key_unavailable: 'The server lacks the key stored data is encrypted under',
  internal: 'Internal error',
};

/** Every problem code (the OpenAPI document lists them). */
export const PROBLEM_CODES = Object.keys(TITLES) as [ProblemCode, ...ProblemCode[]];

/** A problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail?: string;
  instance?: string;
  /** `needs_reauth`: why (`refresh_refused`, `revoked_at_webex`, `deauthorized`). */
  reason?: string;
}

/** Sends a problem+json response. */
export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: ProblemCode,
  detail?: string,
  headers: Record<string, string> = {},
  extensions: Pick<Problem, 'reason'> = {},
): FastifyReply {
  const body: Problem = { type: 'about:blank', title: TITLES[code], status, code };
  if (detail) body.detail = detail;
  if (extensions.reason) body.reason = extensions.reason;
  body.instance = reply.request.url.split('?')[0];
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(status).type('application/problem+json').header('cache-control', 'no-store').send(body);
}
