/**
 * The Webex calls behind the other identity kinds (identities.ts), loaded only when one is used (they bring zod and
 * the REST client, which `webex-auth token` on a fresh token never needs): who a bot token is (`people/me`), a
 * Service App's token pair (`POST /applications/{id}/token`) and a guest token (`POST /guests/token`). Webex's
 * failures become {@link IdentityCallError}s whose text never holds a token or secret.
 */
import * as z from 'zod';
import { WebexOAuthError } from '../oauth/errors.js';
import { processTokenResponse } from '../oauth/tokens.js';
import type { Clock, FetchLike, TokenSet } from '../oauth/types.js';
import { WebexClient } from '../webex/client.js';
import { WebexApiError } from '../webex/errors.js';
import type { Person } from '../webex/schemas.js';
import type { VaultErrorCode } from './types.js';

/**
 * A refused or failed call, with a VaultError code. This module is loaded lazily and the `token` bundle must share no
 * module with it (not even errors.ts), so it carries the webex-auth error brand by its registered symbol, holding
 * its family (`vault`), which errors.ts's `isWebexAuthError` recognises; identities.ts turns it into a VaultError at
 * the vault's boundary.
 */
export class IdentityCallError extends Error {
  override name = 'IdentityCallError';
  constructor(
    readonly code: VaultErrorCode,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    Object.defineProperty(this, Symbol.for('webex-auth.error'), { value: 'vault' });
  }
}

/** Where and how to call Webex. */
export interface CallContext {
  apiBase: string;
  fetch?: FetchLike | undefined;
  clock?: Clock | undefined;
}

const client = (ctx: CallContext, accessToken: string) =>
  new WebexClient({ apiBase: ctx.apiBase, accessToken, maxRetries: 1, ...(ctx.fetch ? { fetch: ctx.fetch } : {}) });

/** `GET people/me` with `token`: the account it belongs to. */
export async function whoIs(ctx: CallContext, token: string): Promise<Person> {
  try {
    return await client(ctx, token).peopleMe();
  } catch (err) {
    throw callFailed(err, 'GET people/me');
  }
}

/** What {@link fetchServiceAppTokens} sends. */
export interface ServiceAppFetch {
  appId: string;
  clientId: string;
  clientSecret: string;
  targetOrgId: string;
  /** An access token holding `spark:applications_token` (the fetching integration connection's). */
  fetcherToken: string;
}

/** `POST applications/{appId}/token`: the token pair of the app's machine account in the target org. */
export async function fetchServiceAppTokens(ctx: CallContext, f: ServiceAppFetch): Promise<TokenSet> {
  let response: Response;
  try {
    response = await client(ctx, f.fetcherToken).send('POST', `/applications/${encodeURIComponent(f.appId)}/token`, {
      body: { clientId: f.clientId, clientSecret: f.clientSecret, targetOrgId: f.targetOrgId },
    });
  } catch (err) {
    throw callFailed(err, 'POST applications/{id}/token');
  }
  try {
    return await processTokenResponse(response, { clock: ctx.clock, requestedScopes: [] });
  } catch (err) {
    if (err instanceof WebexOAuthError && err.status === 403) {
      throw new IdentityCallError(
        'forbidden',
        'Webex refused the Service App token (403): the app is not authorized in this org, or the fetching connection lacks spark:applications_token.',
      );
    }
    throw callFailed(err, 'POST applications/{id}/token');
  }
}

const guestAnswer = z.looseObject({ accessToken: z.string().min(1), expiresIn: z.number().int().positive() });

/** `POST guests/token` with a Service App's token: a guest token for `subject`. */
export async function mintGuestToken(
  ctx: CallContext,
  token: string,
  guest: { subject: string; displayName: string },
): Promise<{ accessToken: string; expiresInSeconds: number }> {
  let response: Response;
  try {
    response = await client(ctx, token).send('POST', '/guests/token', { body: guest });
  } catch (err) {
    throw callFailed(err, 'POST guests/token');
  }
  if (response.status === 403) {
    await response.body?.cancel();
    throw new IdentityCallError(
      'forbidden',
      'Webex refused the guest token (403): the Service App needs the guest-issuer:write scope.',
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw statusFailed(response.status, 'POST guests/token');
  }
  const parsed = guestAnswer.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    throw new IdentityCallError('refresh_failed', 'Webex answered POST guests/token in an unknown shape.');
  return { accessToken: parsed.data.accessToken, expiresInSeconds: parsed.data.expiresIn };
}

/** A Webex failure as a VaultError naming the call and status (never a token). */
function callFailed(err: unknown, call: string): Error {
  if (err instanceof IdentityCallError) return err;
  if (err instanceof WebexApiError) {
    if (err.status === 401) {
      return new IdentityCallError('invalid_request', `Webex refused the token on ${call} (401): it is not valid.`);
    }
    return statusFailed(err.status, call);
  }
  if (err instanceof WebexOAuthError) {
    if (err.retryable) return new IdentityCallError('upstream_unavailable', `Webex is unavailable (${call}).`, 5);
    return new IdentityCallError('refresh_failed', `Webex refused ${call} (${err.code}).`);
  }
  return new IdentityCallError('upstream_unavailable', `Webex could not be reached (${call}).`, 5);
}

function statusFailed(status: number, call: string): IdentityCallError {
  if (status === 0 || status === 429 || status >= 500) {
    return new IdentityCallError(
      'upstream_unavailable',
      `Webex is unavailable (${call}: ${status || 'no answer'}).`,
      5,
    );
  }
  return new IdentityCallError('refresh_failed', `Webex refused ${call} (HTTP ${status}).`);
}
