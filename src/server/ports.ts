/**
 * The part of the vault the web app uses, written down so that the web app depends on these few calls only
 * (and tests can see what it needs). The real `Vault` of src/vault/ satisfies it.
 */
import type { TokenSet } from '../oauth/types.js';
import type { Person } from '../webex/schemas.js';

/** A stored integration, without its secret. */
export interface StoredIntegration {
  id: string;
  clientId: string;
  redirectUri: string;
  apiBase: string;
  scopes: string[];
}

/** A stored connection (one integration + one Webex person), without token material. */
export interface StoredConnection {
  id: string;
  integrationId: string;
  person: { id: string; displayName: string; email?: string; emails?: string[]; avatar?: string };
  scopes: string[];
  requestedScopes: string[];
  status: string;
  accessExpiresAt: number;
  refreshExpiresAt: number;
}

/** The token pair of a connection, in clear (shown only to the browser that made it). */
export interface RevealedTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  refreshExpiresAt: number;
}

/** The vault calls the web app makes. */
export interface ServerVault {
  integrations: {
    upsert(input: {
      clientId: string;
      clientSecret: string;
      redirectUri: string;
      apiBase: string;
      scopes: string[];
    }): Promise<StoredIntegration>;
    get(id: string): Promise<StoredIntegration | undefined>;
  };
  getIntegrationWithSecret(id: string): Promise<(StoredIntegration & { clientSecret: string }) | undefined>;
  connections: {
    saveFromGrant(input: {
      integrationId: string;
      tokens: TokenSet;
      person: Person;
      requestedScopes: string[];
    }): Promise<StoredConnection>;
    get(id: string): Promise<StoredConnection | undefined>;
    list(): Promise<StoredConnection[]>;
    delete(id: string): Promise<boolean | undefined | void>;
    revealTokens(id: string): Promise<RevealedTokens | undefined>;
    getFreshToken(id: string, minValiditySeconds?: number): Promise<{ accessToken: string }>;
    refresh(id: string): Promise<unknown>;
  };
  close(): Promise<void>;
}
