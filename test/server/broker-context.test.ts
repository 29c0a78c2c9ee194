/**
 * The broker's routes run apart from the pages' cookie, session and CSRF hooks (src/server/app.ts): a hook added to
 * the root would reach them whatever the order of registration, so the pages have a context of their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './support/app.js';

/** The hooks Fastify lists for the first route whose line matches `route`. */
function hooksOf(printed: string, route: RegExp): string {
  const lines = printed.split('\n');
  const at = lines.findIndex((l) => route.test(l));
  if (at === -1) throw new Error(`no route ${route} in:\n${printed.slice(0, 2000)}`);
  const hooks: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (!line.includes('•')) break;
    hooks.push(line.trim());
  }
  return hooks.join('\n');
}

describe('the broker context', () => {
  let app: Awaited<ReturnType<typeof testApp>>['app'];
  let printed: string;
  beforeAll(async () => {
    ({ app } = await testApp());
    await app.ready();
    printed = app.printRoutes({ commonPrefix: false, includeHooks: true });
  });
  afterAll(async () => app?.close());

  it('the token and proxy routes run neither the cookie nor the session hooks', () => {
    for (const route of [/\/token \(GET\)/, /\* \(GET, POST, PUT, PATCH, DELETE\)/]) {
      const hooks = hooksOf(printed, route);
      // The token route authenticates in a callback hook (a cached key answers without a promise), the proxy in `authenticate`.
      expect(hooks, String(route)).toMatch(/authenticate(Hook)?\(\)/);
      expect(hooks, String(route)).not.toContain('fastifyCookie');
      expect(hooks, String(route)).not.toContain('preHandler');
    }
  });

  it('the pages keep them', () => {
    const hooks = hooksOf(printed, /space \(GET\)/);
    expect(hooks).toContain('fastifyCookieHandler()');
    expect(hooks).toContain('preHandler');
  });

  it('an unknown /api path is still the problem+json 404, an unknown page the error page', async () => {
    const api = await app.inject({ url: '/api/v1/nothing-here' });
    expect(api.statusCode).toBe(404);
    expect(api.headers['content-type']).toContain('application/problem+json');
    const page = await app.inject({ url: '/nothing-here' });
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('Page not found');
  });
});
