/**
 * The OpenAPI document is made from the broker routes' own schemas: it lists every broker route with its parameters,
 * its bounds are the ones the API enforces, and the real answers match the response schemas it documents.
 */
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { brokerRoutes, openApiRoutes } from '../../src/server/routes/api/index.js';
import {
  connectionListSchema,
  problemSchema,
  refreshedSchema,
  tokenSchema,
} from '../../src/server/routes/api/responses.js';
import { tokenQuery } from '../../src/server/routes/api/schemas.js';
import { openVault, type VaultInternals } from '../../src/vault/index.js';
import { fakeWebex } from '../vault/fake-webex.js';
import { TEST_KEY, tempDir, testConfig, tokenSet } from '../vault/helpers.js';

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: Record<string, unknown>;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, unknown>;
  summary?: string;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

describe('the OpenAPI document', () => {
  let app: FastifyInstance;
  let vault: VaultInternals;
  let cleanup: () => void;
  let id: string;
  let key: string;
  /** Every route the broker plugin added (method and URL), seen by a hook of the root scope. */
  const routes: Array<{ method: string; url: string }> = [];

  beforeAll(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const config = testConfig({
      WEBEX_AUTH_DB: join(t.dir, 'v.db'),
      WEBEX_AUTH_KEYS: TEST_KEY,
      FORCED_REFRESH_MIN_INTERVAL: '0',
    });
    vault = await openVault(config, { fetch: fakeWebex().fetch });
    const integ = await vault.integrations.upsert({
      clientId: 'C1',
      clientSecret: 'CLIENT-SECRET',
      redirectUri: 'http://localhost:8080/oauth',
      scopes: ['spark:all'],
      apiBase: 'https://webex.test/v1',
    });
    const now = Date.now();
    id = (
      await vault.connections.saveFromGrant({
        integrationId: integ.id,
        tokens: tokenSet({ accessToken: 'ACCESS-1', refreshToken: 'REFRESH-1', expiresAt: now + 3_600_000 }, now),
        person: { id: 'alice', emails: ['alice@example.com'], displayName: 'Alice' },
        requestedScopes: ['spark:all'],
      })
    ).id;
    key = (
      await vault.apiKeys.create({ name: 'bot', connectionIds: [id], permissions: ['token', 'refresh', 'delete'] })
    ).key;
    app = Fastify();
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    });
    await app.register(brokerRoutes, { vault, config, rateLimit: { burst: 1000, perSecond: 1000 } });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await vault.close();
    cleanup();
  });

  const documentOf = async (): Promise<Document> => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  it('lists every broker route, with each of its path parameters', async () => {
    const doc = await documentOf();
    expect(doc.openapi).toBe('3.1.0');
    const documented = routes.filter((r) => r.method !== 'HEAD' && r.url !== '/api/v1/openapi.json');
    // The list, the token, refresh, delete and guests routes, and five proxy methods.
    expect(documented.length).toBeGreaterThanOrEqual(10);
    for (const { method, url } of documented) {
      const path = url.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{path}');
      const operation = doc.paths[path]?.[method.toLowerCase()];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation?.summary, `${method} ${path}`).toBeTruthy();
      for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
        const parameter = operation?.parameters?.find((p) => p.in === 'path' && p.name === name);
        expect(parameter, `${method} ${path}: {${name}}`).toMatchObject({ required: true });
      }
    }
    expect(Object.keys(doc.paths)).not.toContain('/api/v1/openapi.json');
    expect(doc.components.securitySchemes).toHaveProperty('apiKey');
  });

  it('documents the connection id as the schema checks it', async () => {
    const doc = await documentOf();
    const param = doc.paths['/api/v1/connections/{id}/token']?.get?.parameters?.find((p) => p.name === 'id');
    expect(param?.schema).toMatchObject({ type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
    const bad = await get('/api/v1/connections/bad.id/token');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(problemSchema.parse(bad.json())).toMatchObject({ code: 'invalid_request' });
    expect(bad.json().detail).toContain('id');
  });

  it('shows the bounds the API enforces: min_validity up to the documented maximum, not one more', async () => {
    const doc = await documentOf();
    const param = doc.paths['/api/v1/connections/{id}/token']?.get?.parameters?.find((p) => p.name === 'min_validity');
    expect(param).toMatchObject({ in: 'query', required: false });
    expect(param?.schema).toMatchObject({ type: 'integer', minimum: 0, maximum: 86_400, default: 60 });
    const { minimum, maximum } = (param?.schema ?? {}) as { minimum: number; maximum: number };
    expect((await get(`/api/v1/connections/${id}/token?min_validity=${minimum}`)).statusCode).toBe(200);
    expect((await get(`/api/v1/connections/${id}/token?min_validity=${maximum}`)).statusCode).toBe(200);
    for (const outside of [minimum - 1, maximum + 1]) {
      const res = await get(`/api/v1/connections/${id}/token?min_validity=${outside}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ status: 400, code: 'invalid_request' });
      expect(res.json().detail).toContain('min_validity');
    }
  });

  it('documents the answers, and the real answers match their schemas', async () => {
    const doc = await documentOf();
    const token = doc.paths['/api/v1/connections/{id}/token']?.get;
    expect(Object.keys(token?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '409', '429', '503']),
    );
    expect(JSON.stringify(token?.responses['200'])).toContain('#/components/schemas/Token');
    expect(JSON.stringify(token?.responses['409'])).toContain('application/problem+json');
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['Connection', 'Person', 'Problem', 'Token']);

    const res = await get(`/api/v1/connections/${id}/token`);
    expect(tokenSchema.parse(res.json())).toMatchObject({ access_token: 'ACCESS-1', min_validity_met: true });
    expect(connectionListSchema.parse((await get('/api/v1/connections')).json()).connections).toHaveLength(1);
    const refreshed = await app.inject({
      method: 'POST',
      url: `/api/v1/connections/${id}/refresh`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshedSchema.parse(refreshed.json()).connection.id).toBe(id);
  });

  it('documents the proxy under {path}, every method alike', async () => {
    const doc = await documentOf();
    const route = doc.paths['/api/v1/connections/{id}/proxy/{path}'];
    expect(Object.keys(route ?? {})).toEqual(['get', 'post', 'put', 'patch', 'delete']);
    expect(route?.get?.parameters?.map((p) => p.name).sort()).toEqual(['id', 'path']);
  });

  it('follows a change of a schema: narrower bounds show in the document and are what is enforced', async () => {
    const changed = Fastify();
    changed.setValidatorCompiler(validatorCompiler);
    await openApiRoutes(changed);
    const querystring = tokenQuery.extend({ min_validity: z.coerce.number().int().min(10).max(600).default(30) });
    changed.get('/api/v1/connections/:id/token', { schema: { summary: 'changed', querystring } }, async () => ({}));
    await changed.ready();
    const doc: Document = (await changed.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const param = doc.paths['/api/v1/connections/{id}/token']?.get?.parameters?.find((p) => p.name === 'min_validity');
    expect(param?.schema).toMatchObject({ minimum: 10, maximum: 600, default: 30 });
    const status = async (q: string) =>
      (await changed.inject({ method: 'GET', url: `/api/v1/connections/x/token?${q}` })).statusCode;
    expect(await status('min_validity=600')).toBe(200);
    expect(await status('min_validity=601')).toBe(400);
    await changed.close();
  });
});
