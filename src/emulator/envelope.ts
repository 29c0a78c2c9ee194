/**
 * Webex-shaped responses: the REST error envelope `{message, errors, trackingId}`, the OAuth error shape
 * `{error, error_description, trackingID}`, the text/html 429, and JSON as `application/json;charset=UTF-8`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Webex's JSON content type (no space, upper-case UTF-8). */
export const JSON_TYPE = 'application/json;charset=UTF-8';

/** The 401 message of every REST endpoint. */
export const MSG_401 = 'The request requires a valid access token set in the Authorization request header.';
/** The 403 message for a missing scope. */
export const MSG_403 =
  'The server understood the request, but refused to fulfill it because the access token is missing required scopes or the user is missing required roles or licenses.';
/** The refresh error text. */
export const MSG_BAD_REFRESH = 'The refresh token provided is expired, revoked, malformed, or invalid.';
/** Unknown room. */
export const MSG_NO_ROOM = 'Could not find a room with provided ID.';
/** Gateway-level malformed request. */
export const MSG_MALFORMED = 'The request could not be understood by the server due to malformed syntax.';

/** Default envelope messages per status, for faults and framework errors. */
const STATUS_MESSAGES: Record<number, string> = {
  400: MSG_MALFORMED,
  404: 'The requested resource could not be found.',
  405: 'The request method is not supported for the requested resource.',
  413: 'The request is larger than the server is willing or able to process.',
  415: 'The request content type is not supported.',
  500: 'Something went wrong on the server.',
  502: 'The server received an invalid response from an upstream server while processing the request.',
  503: 'Server is overloaded with requests. Try again later.',
  504: 'The server did not receive a timely response from an upstream server while processing the request. Try again later.',
};

/** The default envelope message for a status. */
export function statusMessage(status: number): string {
  return STATUS_MESSAGES[status] ?? (status >= 500 ? STATUS_MESSAGES[500] : MSG_MALFORMED) ?? MSG_MALFORMED;
}

/** Sends JSON with Webex's content type. */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(JSON.stringify(body));
}

/** Sends the REST error envelope; `description` defaults to `message` (Webex repeats it in `errors`). */
export function restError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message = statusMessage(status),
  description: string | null = message,
): FastifyReply {
  const body: Record<string, unknown> = { message };
  if (description !== null) body.errors = [{ description }];
  body.trackingId = request.id;
  return sendJson(reply, status, body);
}

/** Sends the OAuth error shape `{error, error_description, trackingID}`. */
export function oauthError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  error: string,
  description: string,
): FastifyReply {
  return sendJson(reply, status, { error, error_description: description, trackingID: request.id });
}

/** Webex's description of `tokenlimit_reached`: the person holds as many live access tokens as Webex allows. */
export const TOKEN_LIMIT_DESCRIPTION = 'The user has reached the maximum number of active tokens.';

/** The 400 `tokenlimit_reached` of the token endpoints (code, refresh, device and Service App grants). */
export function tokenLimitReached(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return oauthError(request, reply, 400, 'tokenlimit_reached', TOKEN_LIMIT_DESCRIPTION);
}

/** A 429 as Webex sends it: text/html body and `Retry-After` in seconds. */
export function tooManyRequests(reply: FastifyReply, retryAfter: number): FastifyReply {
  return reply
    .code(429)
    .header('Retry-After', String(retryAfter))
    .type('text/html')
    .send(
      '<html><head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1>' +
        '<p>The server has received too many requests. Try again after the time in the Retry-After header.</p></body></html>',
    );
}
