/**
 * The app's lazy schema compilers (lazy-validation.ts) behave as Fastify's defaults: a route's body schema still
 * refuses bad input with ajv's errors, and a response schema still shapes the answer through fast-json-stringify
 * (leaving out what it does not name), though neither is built before the route is first used.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazyBuildSerializer, lazyBuildValidator } from '../../src/server/lazy-validation.js';

describe('lazy schema compilers', () => {
  it('validate and serialize as Fastify does', async () => {
    const app = Fastify({
      schemaController: {
        compilersFactory: { buildValidator: lazyBuildValidator(), buildSerializer: lazyBuildSerializer() },
      },
    });
    app.post(
      '/echo',
      {
        schema: {
          body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
          response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
        },
      },
      async (request) => ({ ...(request.body as object), secret: 'left out' }),
    );
    await app.ready();
    const ok = await app.inject({ method: 'POST', url: '/echo', payload: { n: 3 } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('{"n":3}');
    const bad = await app.inject({ method: 'POST', url: '/echo', payload: { n: 'x' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('body/n must be integer');
    await app.close();
  });
});
