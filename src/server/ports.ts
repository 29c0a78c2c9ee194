/**
 * The part of the vault the web app uses (see src/vault/types.ts), written down so that the web app depends on these
 * calls only and tests can stand in for them.
 */
import type { Vault } from '../vault/types.js';

export type {
  Connection as StoredConnection,
  IntegrationRecord as StoredIntegration,
  RevealedTokens,
} from '../vault/types.js';

/** The vault calls the web app makes. */
export type ServerVault = Pick<
  Vault,
  | 'integrations'
  | 'getIntegrationWithSecret'
  | 'connections'
  | 'accounts'
  | 'sessions'
  | 'audit'
  | 'deriveKeys'
  | 'close'
> &
  Partial<Pick<Vault, 'proxyCalls' | 'writeTogether'>>;
