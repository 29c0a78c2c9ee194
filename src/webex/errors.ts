/**
 * The one error of the REST client. Its message never contains the access token. It carries the webex-auth error
 * brand (src/errors.ts `isWebexAuthError`, family `webex`) by its registered symbol: the vault's lazily loaded
 * identity calls hold this module, and they may share no module with the `webex-auth token` bundle.
 */
import { scopesForEndpoint } from '../scopes/catalog.js';

/** The webex-auth error brand's key (src/errors.ts), registered process-wide. */
const BRAND: unique symbol = Symbol.for('webex-auth.error') as never;

/** A Webex REST call failed: an HTTP error (401/403/404/429/5xx…), an unexpected body, or no answer (status 0). */
export class WebexApiError extends Error {
  override name = 'WebexApiError';
  readonly [BRAND] = 'webex' as const;
  /** Stable machine-readable code; callers branch on {@link status}. */
  readonly code = 'api_error' as const;
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  /** The `TrackingID` header (or the envelope's `trackingId`), for Cisco support. */
  readonly trackingId: string | undefined;
  /** The envelope's `errors[0].description` or `message`. */
  readonly description: string | undefined;
  /** Seconds to wait, from `Retry-After`. */
  readonly retryAfter: number | undefined;
  /** On 403: the scopes any of which would allow this call, from the scope catalog. */
  readonly requiredScopes: string[];
  /** `METHOD /path` of the failed call (no query string). */
  readonly endpoint: string;

  constructor(init: {
    method: string;
    path: string;
    status: number;
    trackingId?: string | undefined;
    description?: string | undefined;
    retryAfter?: number | undefined;
    cause?: unknown;
  }) {
    const path = init.path.replace(/[?#].*$/, '');
    const endpoint = `${init.method.toUpperCase()} ${path}`;
    const what = init.status === 0 ? 'got no answer' : `failed with HTTP ${init.status}`;
    super(`Webex ${endpoint} ${what}${init.description ? `: ${init.description}` : ''}`, { cause: init.cause });
    this.status = init.status;
    this.trackingId = init.trackingId;
    this.description = init.description;
    this.retryAfter = init.retryAfter;
    this.endpoint = endpoint;
    this.requiredScopes = init.status === 403 ? scopesForEndpoint(init.method, path) : [];
  }
}

/**
 * What a Webex error body says, from its envelope `{message, errors: [{description}], trackingId}`: the first
 * error's description, else the message (at most 500 characters); `undefined` for any other body.
 */
export function errorDescription(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const env = body as Record<string, unknown>;
  const first = Array.isArray(env.errors) ? (env.errors[0] as Record<string, unknown> | undefined) : undefined;
  const description =
    (typeof first?.description === 'string' && first.description) ||
    (typeof env.message === 'string' && env.message) ||
    undefined;
  return description?.slice(0, 500);
}
