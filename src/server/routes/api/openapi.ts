/**
 * `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the broker API, made by @fastify/swagger from the routes' own
 * zod schemas (schemas.ts, the ones that validate their requests; responses.ts, their answers), so the document
 * cannot drift from the validation.
 * Start pays nothing for it: the broker's routes are only noted as they are added, and the first request loads
 * @fastify/swagger (and its YAML and JSON Schema dependencies) and the answers' schemas (responses.ts: each route names
 * its own in `config.responses`), builds the document once and keeps it.
 */
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type * as Responses from './responses.js';

/** The answers' schemas (responses.ts), loaded with the document. */
export type ResponseSchemas = typeof Responses;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A broker route's answers in the OpenAPI document, made from responses.ts only when the document is built. */
    responses?: (schemas: ResponseSchemas) => Record<string | number, unknown>;
  }
}

/** The document's own text (no secrets, no per-deployment values). */
const info = {
  title: 'webex-auth token broker',
  version: '1',
  description:
    'Hands out fresh Webex user access tokens to bots and services. A token is refreshed only when it has less than `min_validity` seconds left; at most one refresh per connection is in flight across all instances.',
};

const apiKey = {
  type: 'http' as const,
  scheme: 'bearer',
  description:
    'A broker API key `wak_…`, shown once at creation. Each key has permissions: `token` (GET …/token), `refresh` (POST …/refresh), `delete` (DELETE a connection), `proxy` and `guests`; any key may list its connections. New keys get `token` only unless made with more (`webex-auth keys create --allow token,refresh`); keys made before permissions existed keep `token`, `refresh` and `delete` until narrowed. After too many wrong keys from one client address, requests from it get 429 `rate_limited` with `Retry-After` before their key is checked.',
};

/** The proxy's route `…/proxy/*` is documented as `…/proxy/{path}`, its wildcard parameter named `path`. */
const WILDCARD = '/*';

/** The document's transforms, with the answers' `registry` of component schemas. */
function documentTransforms(registry: ResponseSchemas['brokerSchemaRegistry']) {
  const zodTransform = createJsonSchemaTransform({ schemaRegistry: registry });

  /** The zod → JSON Schema transform, naming the proxy's wildcard `path`. */
  const transform: typeof zodTransform = (route) => {
    const out = zodTransform(route);
    if (!out.url.endsWith(WILDCARD)) return out;
    const schema = out.schema as { params?: { properties?: Record<string, unknown>; required?: string[] } };
    const params = schema.params;
    if (params?.properties && '*' in params.properties) {
      const { '*': path, ...rest } = params.properties;
      params.properties = { ...rest, path };
      params.required = params.required?.map((name) => (name === '*' ? 'path' : name));
    }
    return { ...out, url: `${out.url.slice(0, -WILDCARD.length)}/:path` };
  };

  const zodTransformObject = createJsonSchemaTransformObject({ schemaRegistry: registry });

  /** Adds the registry's schemas as components, leaving out those nothing refers to (their unused `…Input` twins). */
  const transformObject: typeof zodTransformObject = (input) => {
    const doc = zodTransformObject(input) as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
    const schemas = doc.components?.schemas ?? {};
    const refersTo = (value: unknown, name: string) => JSON.stringify(value).includes(`"#/components/schemas/${name}"`);
    for (let removed = true; removed; ) {
      removed = false;
      for (const name of Object.keys(schemas)) {
        const others = Object.entries(schemas).filter(([other]) => other !== name);
        if (!refersTo(doc.paths ?? {}, name) && !refersTo(Object.fromEntries(others), name)) {
          delete schemas[name];
          removed = true;
        }
      }
    }
    return doc as ReturnType<typeof zodTransformObject>;
  };
  return { transform, transformObject };
}

/**
 * The document of `routes`: they are added, with their schemas and no-op handlers, to a Fastify instance of their own
 * with @fastify/swagger, which makes the document; that instance is then closed.
 */
async function buildDocument(routes: readonly RouteOptions[]): Promise<unknown> {
  const { default: swagger } = await import('@fastify/swagger');
  const responses = await import('./responses.js');
  const { transform, transformObject } = documentTransforms(responses.brokerSchemaRegistry);
  const doc = Fastify();
  doc.setValidatorCompiler(validatorCompiler);
  doc.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await doc.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info,
      servers: [{ url: '/' }],
      security: [{ apiKey: [] }],
      components: { securitySchemes: { apiKey } },
    },
    transform,
    transformObject,
  });
  for (const { method, url, schema, config } of routes) {
    const response = config?.responses?.(responses);
    const documented = response ? { ...schema, response } : schema;
    doc.route({
      method,
      url,
      exposeHeadRoute: false,
      ...(documented ? { schema: documented } : {}),
      handler: async () => null,
    });
  }
  await doc.ready();
  const document = doc.swagger();
  await doc.close();
  return document;
}

/**
 * Notes every route added to `app`'s scope from now on (call it before the broker's routes) and serves their document.
 * Routes with `schema.hide` are left out.
 */
export function openApiRoutes(app: FastifyInstance): void {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    // A GET's HEAD twin is Fastify's own, not a documented operation.
    if (route.method !== 'HEAD') routes.push(route);
  });
  let document: Promise<unknown> | undefined;
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    document ??= buildDocument(routes).catch((err: unknown) => {
      document = undefined;
      throw err;
    });
    return reply.header('cache-control', 'no-cache').send(await document);
  });
}
