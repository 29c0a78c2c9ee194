/**
 * Human explanations of every error the OAuth client (and the REST client) raises, for the web app and the CLI.
 * Plain text only, never a secret: Webex's own description is reduced to printable text and shortened.
 */
import { isWebexAuthError } from '../errors.js';
import type { WebexOAuthError } from './errors.js';

/** What went wrong, why, and what to do — three short plain-text sentences. */
export interface OAuthErrorExplanation {
  title: string;
  explanation: string;
  action: string;
}

/** Reduces text from the network to one printable line without markup, at most `max` characters. */
export function plainText(s: string, max = 200): string {
  const t = s
    .replace(/<[^>]*>/g, ' ')
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

const byCode: Record<string, Omit<OAuthErrorExplanation, 'explanation'> & { explanation: string }> = {
  access_denied: {
    title: 'Authorization declined',
    explanation: 'The person declined the consent screen, so Webex issued no token.',
    action: 'Start the authorization again and choose Accept.',
  },
  invalid_scope: {
    title: 'Scope not allowed',
    explanation:
      'A requested scope is not registered on the integration (registering spark:all does not make narrower scopes requestable).',
    action: 'Request only scopes registered on the integration, or add them at developer.webex.com and try again.',
  },
  server_error: {
    title: 'Webex failed',
    explanation: 'Webex had an internal error while handling the authorization.',
    action: 'Wait a moment and start the authorization again.',
  },
  temporarily_unavailable: {
    title: 'Webex is unavailable',
    explanation: 'Webex is temporarily unable to handle the request.',
    action: 'Wait a moment and try again.',
  },
  login_required: {
    title: 'Sign-in needed',
    explanation:
      'A silent authorization (prompt=none) was requested but the person has no Webex session in this browser.',
    action: 'Start the authorization again without prompt=none so the person can sign in.',
  },
  invalid_grant: {
    title: 'Authorization no longer valid',
    explanation:
      'Webex rejected the code or refresh token: it expired, was used already, was revoked, or the PKCE verifier or redirect URI did not match.',
    action: 'Authorize again to get a new token pair.',
  },
  invalid_request: {
    title: 'Authorization no longer valid',
    explanation:
      'Webex rejected the request; for a refresh this means the refresh token is expired, revoked, malformed or invalid.',
    action: 'Authorize again to get a new token pair.',
  },
  invalid_client: {
    title: 'Integration credentials rejected',
    explanation: 'Webex did not accept the client id or client secret.',
    action: 'Check the client id and client secret at developer.webex.com (regenerate the secret if unsure).',
  },
  unauthorized_client: {
    title: 'Integration not allowed',
    explanation: 'This integration may not use this kind of grant.',
    action: 'Check the integration settings at developer.webex.com.',
  },
  unsupported_grant_type: {
    title: 'Grant not supported',
    explanation: 'Webex does not support this grant type for integrations.',
    action: 'Use the authorization code or device grant.',
  },
  tokenlimit_reached: {
    title: 'Too many live tokens',
    explanation: 'This person holds the maximum number of live Webex access tokens (750, across all apps).',
    action: 'Revoke unused tokens at https://idbroker.webex.com/idb/profile#/tokens or wait for some to expire.',
  },
  authorization_pending: {
    title: 'Waiting for approval',
    explanation: 'The person has not approved the device code yet.',
    action: 'Enter the code on the verification page and approve it.',
  },
  slow_down: {
    title: 'Polling too fast',
    explanation: 'Webex asked to poll less often.',
    action: 'Wait a few seconds longer between polls.',
  },
  expired_token: {
    title: 'Device code expired',
    explanation: 'The device code expired before it was approved.',
    action: 'Start the device login again.',
  },
  rate_limited: {
    title: 'Rate limited',
    explanation: 'Webex is receiving too many requests from this integration or person.',
    action: 'Wait for the time Webex asks for, then try again.',
  },
  network_error: {
    title: 'Webex unreachable',
    explanation: 'The request to Webex failed before an answer arrived (network, DNS, TLS or timeout).',
    action: 'Check the network and the API base URL, then try again.',
  },
  invalid_response: {
    title: 'Unexpected answer from Webex',
    explanation: 'Webex answered something that is not a valid response.',
    action: 'Try again; if it persists, report it with the tracking id.',
  },
  invalid_token: {
    title: 'Access token rejected',
    explanation: 'Webex did not accept the access token: it expired or was revoked.',
    action: 'Refresh the token or authorize again.',
  },
};

/** What is known about the authorization an error answers, to name what Webex refused. */
export interface OAuthErrorContext {
  /** The scopes the pending authorization asked for. */
  requestedScopes?: readonly string[] | undefined;
  /** The scopes known to be registered on the integration (empty or absent: unknown). */
  integrationScopes?: readonly string[] | undefined;
}

/** The OpenID scopes Webex accepts on any integration, registered or not. */
const OIDC_SCOPES = new Set(['openid', 'email', 'profile']);
/** A word shaped like a Webex scope (`spark:messages_read`, `spark-admin:people_write`, `identity:placeonetimepassword_create`). */
const SCOPE_WORD = /\b[a-z][a-z0-9_-]*:[a-z][a-z0-9_]*\b/g;

/**
 * The scopes an `invalid_scope` refused, when known: the requested scopes Webex's description names; else those
 * requested but not registered on the integration; else scope-shaped words of the description. Empty when unknown.
 */
export function refusedScopes(description: string | undefined, context: OAuthErrorContext = {}): string[] {
  const text = description ? plainText(description, 300) : '';
  const requested = [...new Set(context.requestedScopes ?? [])].filter((s) => s !== '');
  const words = new Set(text.split(/[^A-Za-z0-9_:-]+/).map((w) => w.replace(/:+$/, '')));
  const mentioned = requested.filter((s) => words.has(s));
  if (mentioned.length) return mentioned;
  const registered = context.integrationScopes ?? [];
  if (requested.length && registered.length) {
    const notRegistered = requested.filter((s) => !registered.includes(s) && !OIDC_SCOPES.has(s));
    if (notRegistered.length) return notRegistered;
  }
  return [...new Set(text.match(SCOPE_WORD) ?? [])];
}

function withTracking(text: string, trackingId: unknown): string {
  return typeof trackingId === 'string' && trackingId !== ''
    ? `${text} (Webex tracking id ${plainText(trackingId, 100)})`
    : text;
}

function explainApiError(e: Error & Record<string, unknown>): OAuthErrorExplanation {
  const status = typeof e.status === 'number' ? e.status : 0;
  const scopes = Array.isArray(e.requiredScopes) ? (e.requiredScopes as string[]) : [];
  const table: Record<number, OAuthErrorExplanation> = {
    0: {
      title: 'Webex unreachable',
      explanation: 'The request failed before Webex answered.',
      action: 'Check the network and try again.',
    },
    401: {
      title: 'Access token rejected',
      explanation: 'Webex did not accept the access token: it expired or was revoked.',
      action: 'Refresh the token or authorize again.',
    },
    403: {
      title: 'Missing scope or role',
      explanation: `The access token lacks a required scope, or the person lacks a role or licence.${scopes.length ? ` Scopes that allow this call: ${scopes.join(', ')}.` : ''}`,
      action: 'Authorize again with the needed scope (registered on the integration), or ask an admin for the role.',
    },
    404: {
      title: 'Not found',
      explanation: 'Webex does not know this id, or the person is not a member of that space.',
      action: 'Check the id.',
    },
    429: {
      title: 'Rate limited',
      explanation: 'Webex is receiving too many requests.',
      action: 'Wait for the time Webex asks for, then try again.',
    },
  };
  const base = table[status] ?? {
    title: status >= 500 ? 'Webex failed' : 'Webex refused the request',
    explanation:
      typeof e.description === 'string' && e.description ? plainText(e.description) : `Webex answered HTTP ${status}.`,
    action: status >= 500 ? 'Try again later.' : 'Check the request.',
  };
  return { ...base, explanation: withTracking(base.explanation, e.trackingId) };
}

/** Narrows a branded `oauth` error to what it is: a WebexOAuthError (the only class of that family). */
function answered(error: unknown): error is WebexOAuthError {
  return isWebexAuthError(error, { family: 'oauth' });
}

/**
 * Whether `error` is one of our checks around an authorization (oauth/errors.ts) with `code`. By its brand (errors.ts),
 * not `instanceof`: the error may come from another copy of its module (the CLI's `token` command is bundled on its
 * own, with its own copy of the OAuth client).
 */
function refused(error: unknown, code: string): error is Error {
  return isWebexAuthError(error, { family: 'authorization', code });
}

/**
 * Explains any error the OAuth or REST client raises (and, generically, any other) for a person: title, what
 * happened, and what to do. Never includes secrets or markup.
 */
export function explainOAuthError(error: unknown, context?: OAuthErrorContext): OAuthErrorExplanation {
  if (answered(error)) {
    const known = byCode[error.code];
    const described = error.description ? ` Webex says: ${plainText(error.description)}` : '';
    const base = known ?? {
      title: 'Webex refused the request',
      explanation: `Webex answered with error "${plainText(String(error.code), 64)}".`,
      action: 'Try again; if it persists, report it with the tracking id.',
    };
    let explanation = base.explanation;
    let action = base.action;
    if (error.code === 'rate_limited' && error.retryAfter !== undefined)
      action = `Wait ${error.retryAfter} s, then try again.`;
    if (error.code === 'invalid_scope') {
      const refused = refusedScopes(error.description, context).map((s) => plainText(s, 64));
      if (refused.length) {
        const list = refused.join(', ');
        explanation = `Webex refused ${refused.length === 1 ? 'the scope' : 'the scopes'} ${list}: ${refused.length === 1 ? 'it is' : 'they are'} not registered on the integration (registering spark:all does not make narrower scopes requestable).`;
        action = `Authorize without ${list}, or add ${refused.length === 1 ? 'it' : 'them'} to the integration at developer.webex.com and try again.`;
      }
    }
    return { title: base.title, explanation: withTracking(explanation + described, error.trackingId), action };
  }
  if (refused(error, 'state_mismatch')) {
    return {
      title: 'Authorization could not be matched',
      explanation:
        'The answer from Webex does not belong to an authorization started here: it expired, was already used, came from another browser, or was forged.',
      action: 'Start the authorization again from this browser.',
    };
  }
  if (refused(error, 'invalid_callback')) {
    return {
      title: 'Malformed authorization answer',
      explanation: `The redirect back from Webex is incomplete: ${plainText(error.message)}`,
      action: 'Start the authorization again; do not edit or reload the redirect URL.',
    };
  }
  if (refused(error, 'invalid_id_token')) {
    return {
      title: 'Identity could not be verified',
      explanation: `The id_token from Webex failed verification: ${plainText(error.message)}`,
      action:
        'Authorize again; if it persists, check the expected issuer setting (Webex issuers are cluster-specific).',
    };
  }
  if (refused(error, 'invalid_scope_request')) {
    return {
      title: 'Invalid scope list',
      explanation: plainText(error.message),
      action: 'Choose scopes from the Webex scope catalog.',
    };
  }
  if (isWebexAuthError(error, { family: 'webex' }))
    return explainApiError(error as unknown as Error & Record<string, unknown>);
  if (error instanceof Error && error.name === 'AbortError') {
    return { title: 'Cancelled', explanation: 'The operation was cancelled.', action: 'Start it again when ready.' };
  }
  return {
    title: 'Unexpected error',
    explanation: 'Something unexpected went wrong while talking to Webex.',
    action: 'Try again; if it persists, check the logs.',
  };
}
