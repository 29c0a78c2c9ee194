/** One explanation for every error a page may show: vault errors here, OAuth and REST errors by the oauth module. */
import { explainOAuthError, type OAuthErrorExplanation } from '../oauth/callback.js';
import type { OAuthErrorContext } from '../oauth/explain.js';
import { VaultError } from '../vault/types.js';

/**
 * Title, what happened and what to do, for any error. Never includes a secret. `context` (the pending authorization's
 * scopes and the integration's) lets an `invalid_scope` name the refused scope.
 */
export function explainError(error: unknown, context?: OAuthErrorContext): OAuthErrorExplanation {
  if (error instanceof VaultError) {
    switch (error.code) {
      case 'needs_reauth':
        return {
          title: 'Authorization no longer valid',
          explanation: 'Webex refused this connection’s refresh token (it expired or was revoked).',
          action: 'Authorize again from the home page to get a new token pair.',
        };
      case 'upstream_unavailable':
        return {
          title: 'Webex unavailable',
          explanation: 'Webex did not answer the refresh right now; the connection is kept.',
          action: error.retryAfter ? `Wait ${error.retryAfter} s, then try again.` : 'Wait a moment, then try again.',
        };
      case 'not_found':
        return {
          title: 'Connection not found',
          explanation: 'This connection no longer exists.',
          action: 'Authorize again from the home page.',
        };
      default:
        return { title: 'Request refused', explanation: 'The token store refused the request.', action: 'Try again.' };
    }
  }
  const e = explainOAuthError(error, context);
  // Webex's description can be all markup, which is stripped to nothing: drop the then empty quote.
  return { ...e, explanation: e.explanation.replace(/ Webex says:\s*(?=\(|$)/, ' ').trim() };
}
