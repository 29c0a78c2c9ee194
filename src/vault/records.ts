/** Row ↔ public-record mapping and input checks of the vault (no token material ever leaves through a record). */
import { failingState } from './history.js';
import type { AccountRow, ApiKeyRow, ConnectionRow, IntegrationRow } from './store/types.js';
import {
  type AccountRecord,
  type ApiKeyRecord,
  type Connection,
  type IntegrationInput,
  type IntegrationRecord,
  KEY_PERMISSIONS,
  type KeyPermission,
  LEGACY_KEY_PERMISSIONS,
  VaultError,
} from './types.js';

/** The public view of an integration row: no secret. */
export function integrationRecord(r: IntegrationRow): IntegrationRecord {
  return {
    id: r.id,
    ownerId: r.ownerId,
    clientId: r.clientId,
    redirectUri: r.redirectUri,
    // A copy: the row may be one the integration cache shares between calls (integrations.ts).
    scopes: [...r.scopes],
    apiBase: r.apiBase,
    createdAt: r.createdAt,
  };
}

/**
 * The public view of a connection row: no token material. Its arrays are copies: the row may be one the token cache
 * shares between calls (token-cache.ts), which a caller changing its record must not reach.
 */
export function connectionOf(r: ConnectionRow): Connection {
  return {
    id: r.id,
    ownerId: r.ownerId,
    integrationId: r.integrationId,
    personId: r.personId,
    personEmail: r.personEmail,
    displayName: r.displayName,
    avatar: r.avatar,
    orgId: r.orgId,
    person: {
      id: r.personId,
      displayName: r.displayName,
      email: r.personEmail,
      emails: [...r.personEmails],
      avatar: r.avatar,
    },
    scopes: [...r.scopes],
    requestedScopes: [...r.requestedScopes],
    status: r.status,
    accessExpiresAt: r.accessExpiresAt,
    refreshExpiresAt: r.refreshExpiresAt,
    lastRefreshAt: r.lastRefreshAt,
    lastError: r.lastError,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    kind: r.kind ?? 'integration',
    needsReauthReason: r.needsReauthReason,
    appId: r.appId,
    fetcherConnectionId: r.fetcherConnectionId,
    ...failingState(r),
  };
}

/**
 * The public view of an API key row: no hash. A row without permissions (NULL: made before permissions existed) is a
 * legacy key with {@link LEGACY_KEY_PERMISSIONS}; unknown names in a stored list are dropped (they grant nothing).
 */
export function apiKeyRecord(r: ApiKeyRow): ApiKeyRecord {
  const legacy = r.permissions === undefined;
  const stored = r.permissions ?? LEGACY_KEY_PERMISSIONS;
  return {
    id: r.id,
    ownerId: r.ownerId,
    name: r.name,
    connectionIds: r.connectionIds,
    permissions: KEY_PERMISSIONS.filter((p) => stored.includes(p)),
    legacy,
    paths: r.paths,
    methods: r.methods,
    prefix: r.prefix,
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt,
  };
}

/** The public view of an account row. */
export function accountRecord(r: AccountRow): AccountRecord {
  return {
    id: r.id,
    personId: r.personId,
    email: r.email,
    displayName: r.displayName,
    orgId: r.orgId,
    createdAt: r.createdAt,
    lastSignInAt: r.lastSignInAt,
  };
}

const isHttpUrl = (v: unknown) =>
  typeof v === 'string' && URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) && v.length <= 2048;
const isText = (v: unknown, max: number) => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

/** Checks an integration at the vault's boundary (the library may be called with anything); base URL normalised. */
export function validIntegration(input: IntegrationInput): IntegrationInput {
  const bad = (field: string) => new VaultError('invalid_request', `Invalid integration: ${field}.`);
  if (!isText(input?.clientId, 512)) throw bad('clientId must be a non-empty string');
  if (!isText(input.clientSecret, 1024)) throw bad('clientSecret must be a non-empty string');
  if (!isHttpUrl(input.redirectUri)) throw bad('redirectUri must be an http(s) URL');
  if (!isHttpUrl(input.apiBase)) throw bad('apiBase must be an http(s) URL');
  if (!Array.isArray(input.scopes) || !input.scopes.every((s) => isText(s, 200))) {
    throw bad('scopes must be a list of scope names');
  }
  return { ...input, clientId: input.clientId.trim(), apiBase: input.apiBase.replace(/\/+$/, '') };
}

/** The HTTP methods a `proxy` key may be limited to. */
export const KEY_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** A path prefix a `proxy` key may be limited to (e.g. `rooms`, `messages`, `meetings/preferences`). */
const KEY_PATH = /^[a-z][a-zA-Z0-9/_-]{0,100}$/;

/** A user-given value for an error message: quoted and escaped (no control character reaches a terminal or log). */
const shown = (v: unknown) => JSON.stringify(String(v).slice(0, 40));

/** A non-empty list of distinct strings, each accepted by `ok`, or a VaultError naming the first bad one. */
function distinctList(field: string, input: unknown, ok: (v: string) => boolean, max: number): string[] {
  const bad = (why: string) => new VaultError('invalid_request', `Invalid API key ${field}: ${why}.`);
  if (!Array.isArray(input) || input.length === 0) throw bad('expected a non-empty list');
  if (input.length > max) throw bad(`at most ${max} entries`);
  const seen = new Set<string>();
  for (const v of input) {
    if (typeof v !== 'string' || !ok(v)) throw bad(`${shown(v)} is not allowed`);
    if (seen.has(v)) throw bad(`${shown(v)} appears twice`);
    seen.add(v);
  }
  return [...seen];
}

/**
 * Checks a key's permissions at the vault's boundary: a non-empty list of distinct {@link KEY_PERMISSIONS}; returned
 * in display order.
 * @throws {VaultError} `invalid_request` naming the bad value.
 */
export function validKeyPermissions(input: unknown): KeyPermission[] {
  const given = distinctList('permissions', input, (v) => (KEY_PERMISSIONS as readonly string[]).includes(v), 10);
  return KEY_PERMISSIONS.filter((p) => given.includes(p));
}

/**
 * Checks a `proxy` key's path prefixes: distinct, each `^[a-z][a-zA-Z0-9/_-]{0,100}$` without `..` or `//`.
 * @throws {VaultError} `invalid_request` naming the bad value.
 */
export function validKeyPaths(input: unknown): string[] {
  return distinctList('paths', input, (v) => KEY_PATH.test(v) && !v.includes('..') && !v.includes('//'), 50);
}

/**
 * Checks a `proxy` key's HTTP methods: distinct, each one of {@link KEY_METHODS} (upper case).
 * @throws {VaultError} `invalid_request` naming the bad value.
 */
export function validKeyMethods(input: unknown): string[] {
  return distinctList('methods', input, (v) => (KEY_METHODS as readonly string[]).includes(v), KEY_METHODS.length);
}
