/**
 * An in-memory stand-in for the vault, for app.inject() tests of pages that need no real store (error pages, hostile
 * input). Flow tests use the real vault and the real emulator.
 */
import { randomUUID } from 'node:crypto';
import type { RevealedTokens, ServerVault, StoredConnection, StoredIntegration } from '../../../src/server/ports.js';
import { VaultError } from '../../../src/vault/types.js';

/** A ServerVault keeping everything in Maps. */
export function memoryVault(): ServerVault & { secrets: Map<string, string>; tokens: Map<string, RevealedTokens> } {
  const integrations = new Map<string, StoredIntegration>();
  const secrets = new Map<string, string>();
  const connections = new Map<string, StoredConnection>();
  const tokens = new Map<string, RevealedTokens>();
  return {
    secrets,
    tokens,
    integrations: {
      async upsert(input) {
        const existing = [...integrations.values()].find(
          (i) => i.clientId === input.clientId && i.apiBase === input.apiBase,
        );
        const id = existing?.id ?? randomUUID();
        const stored: StoredIntegration = {
          id,
          clientId: input.clientId,
          redirectUri: input.redirectUri,
          apiBase: input.apiBase,
          scopes: input.scopes,
          createdAt: Date.now(),
        };
        integrations.set(id, stored);
        secrets.set(id, input.clientSecret);
        return stored;
      },
      async get(id) {
        return integrations.get(id);
      },
      async findByClientId(clientId, apiBase) {
        return [...integrations.values()].find((i) => i.clientId === clientId && i.apiBase === apiBase);
      },
      async list() {
        return [...integrations.values()];
      },
    },
    async getIntegrationWithSecret(id) {
      const i = integrations.get(id);
      const secret = secrets.get(id);
      return i && secret !== undefined ? { ...i, clientSecret: secret } : undefined;
    },
    connections: {
      async saveFromGrant({ integrationId, tokens: t, person, requestedScopes }) {
        const id = randomUUID();
        const email = person.emails[0] ?? '';
        const c: StoredConnection = {
          id,
          integrationId,
          personId: person.id,
          personEmail: email,
          displayName: person.displayName,
          person: {
            id: person.id,
            displayName: person.displayName,
            email,
            emails: person.emails,
            avatar: person.avatar,
          },
          createdAt: Date.now(),
          updatedAt: Date.now(),
          scopes: t.scopes,
          requestedScopes,
          status: 'active',
          accessExpiresAt: t.expiresAt,
          refreshExpiresAt: t.refreshExpiresAt,
        };
        connections.set(id, c);
        tokens.set(id, {
          accessToken: t.accessToken,
          refreshToken: t.refreshToken,
          expiresAt: t.expiresAt,
          refreshExpiresAt: t.refreshExpiresAt,
        });
        return c;
      },
      async get(id) {
        return connections.get(id);
      },
      async list() {
        return [...connections.values()];
      },
      async delete(id) {
        tokens.delete(id);
        return connections.delete(id);
      },
      async revealTokens(id) {
        return tokens.get(id);
      },
      async getFreshToken(id) {
        const t = tokens.get(id);
        const c = connections.get(id);
        if (!t || !c) throw new VaultError('not_found', 'no such connection');
        return { accessToken: t.accessToken, expiresAt: t.expiresAt, scopes: c.scopes, person: c.person };
      },
      async refresh(id) {
        const c = connections.get(id);
        if (!c) throw new VaultError('not_found', 'no such connection');
        return c;
      },
      async markNeedsReauth(id) {
        const c = connections.get(id);
        if (c) c.status = 'needs_reauth';
      },
    },
    async close() {},
  };
}
