/**
 * The one shape of a served access token: shared by the full vault (connections.ts) and the one-shot read of
 * `webex-auth token` (token-reader.ts), so both always answer alike. Type-only imports: nothing more is loaded.
 */
import type { ConnectionRow } from './store/types.js';
import type { FreshToken } from './types.js';

/** The {@link FreshToken} of connection `row`, whose decrypted access token is `accessToken`. */
export function freshTokenOf(row: ConnectionRow, accessToken: string, minValidityMet: boolean): FreshToken {
  return {
    accessToken,
    minValidityMet,
    expiresAt: row.accessExpiresAt,
    scopes: [...row.scopes],
    person: { id: row.personId, email: row.personEmail, displayName: row.displayName },
  };
}
