/** Row ↔ public-record mapping and input checks of the vault (no token material ever leaves through a record). */
import type { AccountRow, ApiKeyRow, ConnectionRow, IntegrationRow } from './store/types.js';
import {
  type AccountRecord,
  type ApiKeyRecord,
  type Connection,
  type IntegrationInput,
  type IntegrationRecord,
  VaultError,
} from './types.js';

/** The secret slot of an integration's client secret. */
export const secretSlot = (id: string) => ({ table: 'integrations', rowId: id, column: 'client_secret' });

/** The public view of an integration row: no secret. */
export function integrationRecord(r: IntegrationRow): IntegrationRecord {
  return {
    id: r.id,
    ownerId: r.ownerId,
    clientId: r.clientId,
    redirectUri: r.redirectUri,
    scopes: r.scopes,
    apiBase: r.apiBase,
    createdAt: r.createdAt,
  };
}

/** The public view of a connection row: no token material. */
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
      emails: r.personEmails,
      avatar: r.avatar,
    },
    scopes: r.scopes,
    requestedScopes: r.requestedScopes,
    status: r.status,
    accessExpiresAt: r.accessExpiresAt,
    refreshExpiresAt: r.refreshExpiresAt,
    lastRefreshAt: r.lastRefreshAt,
    lastError: r.lastError,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** The public view of an API key row: no hash. */
export function apiKeyRecord(r: ApiKeyRow): ApiKeyRecord {
  return {
    id: r.id,
    ownerId: r.ownerId,
    name: r.name,
    connectionIds: r.connectionIds,
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
