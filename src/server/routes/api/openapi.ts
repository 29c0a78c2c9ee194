/** The OpenAPI 3.1 document of the broker API, served at `/api/v1/openapi.json`. */

const problem = {
  description: 'Problem details (RFC 9457) with a stable `code`.',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' } };
const common = {
  '401': { ...problem, description: '`unauthorized`: missing or invalid API key.' },
  '403': {
    ...problem,
    description:
      '`forbidden`: the key was not made for this connection, or lacks the permission this route needs (the `detail` names it, e.g. `This API key lacks the "refresh" permission.`).',
  },
  '404': { ...problem, description: '`not_found`.' },
  '429': { ...problem, description: '`rate_limited`, with `Retry-After`.' },
};

/** One proxied call (every method of `…/proxy/{path}` is documented alike). */
const proxyOperation = {
  summary:
    "Call Webex as the connection: the connection's API base + `/{path}`, with the query, body and headers sent.",
  description:
    "Needs the `proxy` permission, and the key's path prefixes and methods when it has them. `{path}` may hold several segments (`rooms/{roomId}`); `.`/`..`/empty segments, encoded slashes and backslashes are refused (400). Webex's answer comes back unchanged (status, `trackingid`, `Retry-After`, body), `Link` URLs rewritten to this route. A 401 from Webex is retried once after one shared refresh (bodies up to `PROXY_BUFFER_LIMIT`); a 429 is passed through, or waited out once up to `PROXY_MAX_RETRY_WAIT`. In team mode only Webex, loopback and `ALLOWED_API_BASES` bases are called.",
  parameters: [
    idParam,
    {
      name: 'path',
      in: 'path',
      required: true,
      schema: { type: 'string' },
      description: 'A Webex API path, e.g. `people/me`.',
    },
  ],
  responses: {
    default: { description: "Webex's answer, unchanged (its errors included)." },
    '400': { ...problem, description: '`invalid_request`: the path was refused.' },
    ...common,
    '409': { ...problem, description: '`needs_reauth`.' },
    '413': { ...problem, description: '`payload_too_large`: the body is above `PROXY_MAX_BODY`.' },
    '502': { ...problem, description: '`upstream_unavailable`: Webex could not be reached, with `Retry-After`.' },
  },
};

/** The document (a constant; no secrets, no per-deployment values). */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'webex-auth token broker',
    version: '1',
    description:
      'Hands out fresh Webex user access tokens to bots and services. A token is refreshed only when it has less than `min_validity` seconds left; at most one refresh per connection is in flight across all instances.',
  },
  servers: [{ url: '/' }],
  security: [{ apiKey: [] }],
  components: {
    securitySchemes: {
      apiKey: {
        type: 'http',
        scheme: 'bearer',
        description:
          'A broker API key `wak_…`, shown once at creation. Each key has permissions: `token` (GET …/token), `refresh` (POST …/refresh), `delete` (DELETE a connection), `proxy` and `guests`; any key may list its connections. New keys get `token` only unless made with more (`webex-auth keys create --allow token,refresh`); keys made before permissions existed keep `token`, `refresh` and `delete` until narrowed. After too many wrong keys from one client address, requests from it get 429 `rate_limited` with `Retry-After` before their key is checked.',
      },
    },
    schemas: {
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'code'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          instance: { type: 'string' },
          reason: {
            type: 'string',
            enum: ['refresh_refused', 'revoked_at_webex', 'deauthorized'],
            description: 'With `needs_reauth`: why the connection can no longer be refreshed.',
          },
          code: {
            type: 'string',
            enum: [
              'unauthorized',
              'forbidden',
              'not_found',
              'needs_reauth',
              'upstream_unavailable',
              'upstream_error',
              'invalid_request',
              'rate_limited',
              'payload_too_large',
              'vault_key',
              'vault_key_unavailable',
              'internal',
            ],
          },
        },
      },
      Person: {
        type: 'object',
        properties: { id: { type: 'string' }, email: { type: 'string' }, display_name: { type: 'string' } },
      },
      Connection: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          integration_id: { type: 'string' },
          kind: {
            type: 'string',
            enum: ['integration', 'service_app', 'bot'],
            description:
              "A person's integration grant, a Service App's machine account in one org, or a bot (whose token does not expire: its expiries are 100 years on).",
          },
          person: { $ref: '#/components/schemas/Person' },
          org_id: { type: 'string' },
          app_id: { type: 'string', description: '`service_app`: the Webex application id.' },
          scopes: { type: 'array', items: { type: 'string' } },
          status: { type: 'string', enum: ['active', 'needs_reauth'] },
          needs_reauth_reason: {
            type: ['string', 'null'],
            enum: ['refresh_refused', 'revoked_at_webex', 'deauthorized', null],
          },
          access_token_expires_at: { type: 'string', format: 'date-time' },
          refresh_token_expires_at: { type: 'string', format: 'date-time' },
          last_refresh_at: { type: ['string', 'null'], format: 'date-time' },
          last_error: { type: ['string', 'null'] },
          refresh_failing: { type: 'boolean', description: 'Refreshes fail on 5xx/429/network and back off.' },
          next_refresh_attempt_at: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      Token: {
        type: 'object',
        required: ['access_token', 'token_type', 'expires_at', 'scopes', 'person'],
        properties: {
          access_token: { type: 'string' },
          token_type: { type: 'string', const: 'Bearer' },
          expires_at: { type: 'string', format: 'date-time' },
          expires_in: { type: 'integer' },
          scopes: { type: 'array', items: { type: 'string' } },
          person: { $ref: '#/components/schemas/Person' },
        },
      },
    },
  },
  paths: {
    '/api/v1/connections': {
      get: {
        summary: 'The connections this API key may use (no token material).',
        responses: {
          '200': {
            description: 'OK',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { connections: { type: 'array', items: { $ref: '#/components/schemas/Connection' } } },
                },
              },
            },
          },
          '401': common['401'],
          '429': common['429'],
        },
      },
    },
    '/api/v1/connections/{id}/token': {
      get: {
        summary: 'An access token valid for at least `min_validity` seconds, refreshing first if needed.',
        description: 'Needs the `token` permission.',
        parameters: [
          idParam,
          {
            name: 'min_validity',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 0, maximum: 86400, default: 60 },
          },
        ],
        responses: {
          '200': {
            description: 'OK',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Token' } } },
          },
          '400': { ...problem, description: '`invalid_request` (e.g. `min_validity` out of range).' },
          ...common,
          '409': {
            ...problem,
            description:
              '`needs_reauth`, with its `reason`: `refresh_refused` or `revoked_at_webex` (authorize again), `deauthorized` (a Service App an admin deauthorized in the org).',
          },
          '502': { ...problem, description: '`upstream_error`: Webex refused the client credentials.' },
          '503': {
            ...problem,
            description: '`upstream_unavailable`, with `Retry-After`; the connection stays active.',
          },
        },
      },
    },
    '/api/v1/connections/{id}/refresh': {
      post: {
        summary: 'Refresh now (single flight).',
        description: 'Needs the `refresh` permission. Recorded in the audit log (`refresh.forced`).',
        parameters: [idParam],
        responses: {
          '200': {
            description: 'OK',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { connection: { $ref: '#/components/schemas/Connection' } } },
              },
            },
          },
          ...common,
          '409': { ...problem, description: '`needs_reauth`.' },
          '413': { ...problem, description: '`payload_too_large`.' },
          '503': { ...problem, description: '`upstream_unavailable`, with `Retry-After`.' },
        },
      },
    },
    '/api/v1/connections/{id}': {
      delete: {
        summary: 'Forget a connection (its tokens are deleted from the vault).',
        description: 'Needs the `delete` permission. Recorded in the audit log (`connection.delete`).',
        parameters: [idParam],
        responses: { '204': { description: 'Deleted' }, ...common },
      },
    },
    '/api/v1/connections/{id}/guests': {
      post: {
        summary: 'A guest token minted through a Service App connection (with `guest-issuer:write`).',
        description:
          'Needs the `guests` permission. A live token minted earlier for the same `subject` (kept encrypted) is returned again.',
        parameters: [idParam],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['subject', 'displayName'],
                additionalProperties: false,
                properties: {
                  subject: { type: 'string', minLength: 1, maxLength: 256 },
                  displayName: { type: 'string', minLength: 1, maxLength: 256 },
                },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'OK',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['access_token', 'expires_at'],
                  properties: {
                    access_token: { type: 'string' },
                    expires_at: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          '400': { ...problem, description: '`invalid_request` (bad body, or not a Service App connection).' },
          ...common,
          '409': { ...problem, description: '`needs_reauth`, with its `reason`.' },
          '503': { ...problem, description: '`upstream_unavailable`, with `Retry-After`.' },
        },
      },
    },
    '/api/v1/connections/{id}/proxy/{path}': {
      get: proxyOperation,
      post: proxyOperation,
      put: proxyOperation,
      patch: proxyOperation,
      delete: proxyOperation,
    },
  },
} as const;
