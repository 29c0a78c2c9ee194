/** `GET /v1/people/me`, `GET /v1/people/{personId}`, `GET /v1/people` (scope `spark:people_read` or `spark:all`). */
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { JSON_TYPE, restError, sendJson } from '../envelope.js';
import type { PersonRec } from '../state.js';
import { personJson, seesRoles } from '../views/json.js';
import { authenticate, beginList, paginate, requiredScopes } from './rest.js';

/** Registers the people endpoints. */
export async function peopleRoutes(app: FastifyInstance, { ctx }: { ctx: EmulatorContext }): Promise<void> {
  const meScopes = requiredScopes('GET', '/people/me');
  const oneScopes = requiredScopes('GET', '/people/{personId}');
  const listScopes = requiredScopes('GET', '/people');
  // A person's JSON never changes, so people/me sends a cached string (the hot path of the broker benchmarks). There
  // are two views: with `roles` (the person themself, or an admin of their org) and without.
  const caches = [new WeakMap<PersonRec, string>(), new WeakMap<PersonRec, string>()] as const;
  const serialized = (p: PersonRec, withRoles: boolean) => {
    const cache = caches[withRoles ? 1 : 0];
    let s = cache.get(p);
    if (s === undefined) {
      s = JSON.stringify(personJson(p, withRoles));
      cache.set(p, s);
    }
    return s;
  };

  app.get('/v1/people/me', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, meScopes);
    if (!caller) return reply;
    return reply.code(200).type(JSON_TYPE).send(serialized(caller.person, true));
  });

  app.get('/v1/people/:personId', { config: { fault: 'rest' } }, async (request, reply) => {
    const caller = authenticate(ctx, request, reply, oneScopes);
    if (!caller) return reply;
    const { personId } = request.params as { personId: string };
    const person = ctx.state.people.get(personId);
    if (!person) return restError(request, reply, 404, 'Person not found.');
    return reply
      .code(200)
      .type(JSON_TYPE)
      .send(serialized(person, seesRoles(caller.person, person)));
  });

  app.get('/v1/people', { config: { fault: 'rest' } }, async (request, reply) => {
    const list = beginList(ctx, request, reply, listScopes, () => ({ defaultMax: 100, limit: 1000 }));
    if (!list) return reply;
    const { caller, q, max, offset } = list;
    if (!q.email && !q.displayName && !q.id)
      return restError(request, reply, 400, 'Email, displayName, or id list should be specified.');
    const ids = q.id ? new Set(q.id.split(',')) : undefined;
    const all = [...ctx.state.people.values()].filter(
      (p) =>
        (!q.email || p.email.toLowerCase() === q.email.toLowerCase()) &&
        (!q.displayName || p.displayName.toLowerCase().startsWith(q.displayName.toLowerCase())) &&
        (!ids || ids.has(p.id)),
    );
    return sendJson(reply, 200, {
      items: paginate(request, reply, all, offset, max).map((p) => personJson(p, seesRoles(caller.person, p))),
    });
  });
}
