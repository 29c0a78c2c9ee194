/**
 * What every REST resource shares: bearer-token checks (401 envelope), scope enforcement from the scope catalog
 * (403 envelope; `spark:all` satisfies user scopes), `max` parsing, Link pagination, and JSON bodies on POST.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { SCOPES } from '../../scopes/catalog.js';
import type { EmulatorContext } from '../context.js';
import { MSG_401, MSG_403, restError } from '../envelope.js';
import type { AccessRec, PersonRec } from '../state.js';

/**
 * The scopes any one of which allows `METHOD /path`, where `path` is the route's template exactly as the catalog writes
 * it (`/people/{personId}`); computed once per route. Only the catalog's data is shared with the client side, never
 * its lookup code (design.md): a bug in a shared lookup would hide itself on both sides. `spark:all` covers every
 * user-level `spark:` scope, never admin or compliance ones (docs/webex-api.md "Scopes").
 */
export function requiredScopes(method: string, path: string): string[] {
  const endpoint = `${method} ${path}`;
  const scopes = SCOPES.filter((s) => s.endpoints.includes(endpoint));
  if (scopes.length === 0) throw new Error(`emulator: no catalog scope lists ${endpoint}`);
  const names = scopes.map((s) => s.name);
  if (scopes.some((s) => s.kind === 'user' && s.name.startsWith('spark:'))) names.push('spark:all');
  return names;
}

/** The authenticated caller. */
export interface Caller {
  token: AccessRec;
  person: PersonRec;
}

/**
 * Checks `Authorization: Bearer` and the scopes; sends 401/403 itself and returns undefined when refused.
 */
export function authenticate(
  ctx: EmulatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  scopes: readonly string[],
): Caller | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') {
    restError(request, reply, 401, MSG_401);
    return undefined;
  }
  const check = ctx.tokens.checkAccess(header.slice(7).trim());
  const person = check.ok ? ctx.state.personByUuid(check.rec.personUuid) : undefined;
  if (!check.ok || !person) {
    restError(request, reply, 401, MSG_401);
    return undefined;
  }
  if (scopes.length > 0 && !scopes.some((s) => check.rec.scopes.has(s))) {
    restError(request, reply, 403, MSG_403);
    return undefined;
  }
  return { token: check.rec, person };
}

/** What a list endpoint starts with: the caller, its single-valued query, the page size and the page offset. */
export interface ListRequest {
  caller: Caller;
  q: Record<string, string>;
  max: number;
  offset: number;
}

/**
 * The shared start of every list endpoint: token and scope check, single-valued query, `max` (default and limit may
 * depend on the query) and the opaque cursor. Sends the Webex-shaped error itself and returns undefined when refused.
 */
export function beginList(
  ctx: EmulatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  scopes: readonly string[],
  page: (q: Record<string, string>) => { defaultMax: number; limit: number },
): ListRequest | undefined {
  const caller = authenticate(ctx, request, reply, scopes);
  if (!caller) return undefined;
  const q = singleQuery(request, reply);
  if (!q) return undefined;
  const { defaultMax, limit } = page(q);
  const max = readMax(ctx, request, reply, q.max, defaultMax, limit);
  if (max === undefined) return undefined;
  const offset = readCursor(q.cursor);
  if (offset === undefined) {
    restError(request, reply, 400, 'Invalid cursor.');
    return undefined;
  }
  return { caller, q, max, offset };
}

/** Parses `max`: default when absent; < 1 or non-numeric → 400; above `limit` clamped (or 400 in reject mode). */
export function readMax(
  ctx: EmulatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  raw: unknown,
  defaultMax: number,
  limit: number,
): number | undefined {
  if (raw === undefined) return defaultMax;
  if (typeof raw !== 'string' || !/^-?\d{1,9}$/.test(raw) || Number(raw) < 1) {
    restError(request, reply, 400, `max must be an integer between 1 and ${limit}.`);
    return undefined;
  }
  const n = Number(raw);
  if (n > limit) {
    if (ctx.options.maxMode === 'reject') {
      restError(request, reply, 400, `max must be an integer between 1 and ${limit}.`);
      return undefined;
    }
    return limit;
  }
  return n;
}

/** Reads the opaque `cursor` query parameter: an offset; undefined for a bad cursor (the caller sends 400). */
export function readCursor(raw: unknown): number | undefined {
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' || raw.length > 100) return undefined;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  return m?.[1] ? Number(m[1]) : undefined;
}

/**
 * Slices one page and sets `Link: <absolute-url>; rel="next"` when more items follow (the URL keeps the other query
 * parameters, with `max` and an opaque `cursor`).
 */
export function paginate<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  items: T[],
  offset: number,
  max: number,
): T[] {
  const page = items.slice(offset, offset + max);
  if (offset + max < items.length) {
    const url = new URL(request.url, `${request.protocol}://${request.host}`);
    url.searchParams.set('max', String(max));
    url.searchParams.set('cursor', Buffer.from(`o:${offset + max}`).toString('base64url'));
    reply.header('Link', `<${url.href}>; rel="next"`);
  }
  return page;
}

/** Validates a JSON request body (415 for another content type, 400 naming the field); undefined when refused. */
export function readJsonBody<S extends z.ZodType>(
  request: FastifyRequest,
  reply: FastifyReply,
  schema: S,
): z.output<S> | undefined {
  const type = request.headers['content-type'];
  if (typeof type !== 'string' || !type.toLowerCase().startsWith('application/json')) {
    restError(request, reply, 415, `Content type '${(type ?? '').slice(0, 100)}' not supported`);
    return undefined;
  }
  return validateBody(request, reply, schema, request.body);
}

/** Validates an already-read request body (400 naming the field); undefined when refused. */
export function validateBody<S extends z.ZodType>(
  request: FastifyRequest,
  reply: FastifyReply,
  schema: S,
  value: unknown,
): z.output<S> | undefined {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    restError(request, reply, 400, `${where}${issue?.message ?? 'invalid body'}`.slice(0, 300));
    return undefined;
  }
  return result.data;
}

/** Rejects query strings with a repeated or oversized parameter; sends 400 and returns false when refused. */
export function singleQuery(request: FastifyRequest, reply: FastifyReply): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string' || v.length > 2048) {
      restError(request, reply, 400, `Invalid parameter '${k.slice(0, 50)}'.`);
      return undefined;
    }
    out[k] = v;
  }
  return out;
}
