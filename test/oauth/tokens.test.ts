import { describe, expect, it } from 'vitest';
import { WebexOAuthError } from '../../src/oauth/errors.js';
import { exchangeCode, processTokenResponse, refreshAccessToken } from '../../src/oauth/tokens.js';
import type { PendingAuthorization } from '../../src/oauth/types.js';
import { fakeFetch, integration, json, tokenBody } from './helpers.js';

const pending: PendingAuthorization = {
  state: 's',
  codeVerifier: 'verifier-'.padEnd(43, 'x'),
  redirectUri: integration.redirectUri,
  scopes: ['spark:people_read', 'spark:rooms_read'],
  createdAt: 0,
};
const clock = () => 1_700_000_000_000;

async function oauthError(p: Promise<unknown>): Promise<WebexOAuthError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WebexOAuthError);
    return e as WebexOAuthError;
  }
  throw new Error('expected a WebexOAuthError');
}

const secrets = [integration.clientSecret, 'AT-canary-1111', 'RT-canary-2222', 'CODE-canary'];
const noSecrets = (e: Error) => {
  for (const s of secrets) expect(`${e.message} ${(e as WebexOAuthError).description ?? ''}`).not.toContain(s);
};

describe('exchangeCode', () => {
  it('POSTs a form with code, redirect_uri, code_verifier and body credentials, and computes absolute expiries', async () => {
    const { fetch, seen } = fakeFetch(json(tokenBody(), 200, { TrackingID: 'ROUTER_1' }));
    const t = await exchangeCode(integration, { code: 'CODE-canary', pending }, { fetch, clock });
    expect(seen[0]?.url).toBe('https://webexapis.example/v1/access_token');
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(seen[0]?.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'authorization_code',
      code: 'CODE-canary',
      redirect_uri: integration.redirectUri,
      code_verifier: pending.codeVerifier,
      client_id: integration.clientId,
      client_secret: integration.clientSecret,
    });
    expect(t).toEqual({
      accessToken: 'AT-canary-1111_PF84_org',
      refreshToken: 'RT-canary-2222_PF84_org',
      tokenType: 'Bearer',
      expiresAt: clock() + 1209599_000,
      refreshExpiresAt: clock() + 7775999_000,
      scopes: ['spark:people_read', 'spark:rooms_read'],
      scopeReported: true,
      trackingId: 'ROUTER_1',
      receivedAt: clock(),
    });
  });

  it('can authenticate with HTTP Basic instead', async () => {
    const { fetch, seen } = fakeFetch(json(tokenBody({ id_token: 'eyJ.x.y' })));
    const t = await exchangeCode(
      integration,
      { code: 'c', pending },
      { fetch, clock, clientAuth: 'client_secret_basic' },
    );
    const form = new URLSearchParams(seen[0]?.body);
    expect(form.has('client_secret')).toBe(false);
    const basic = seen[0]?.headers.get('authorization') ?? '';
    expect(Buffer.from(basic.replace(/^Basic /, ''), 'base64').toString()).toBe(
      `${integration.clientId}:${integration.clientSecret}`,
    );
    expect(t.idToken).toBe('eyJ.x.y');
  });

  it('omits code_verifier when PKCE was not used', async () => {
    const { fetch, seen } = fakeFetch(json(tokenBody()));
    await exchangeCode(integration, { code: 'c', pending: { ...pending, codeVerifier: '' } }, { fetch });
    expect(new URLSearchParams(seen[0]?.body).has('code_verifier')).toBe(false);
  });

  it('answers a PKCE verifier mismatch as the emulator does: 400 invalid_grant → needsReauth', async () => {
    const { fetch } = fakeFetch(
      json({ error: 'invalid_grant', error_description: 'PKCE verification failed.', trackingID: 'ROUTER_X' }, 400),
    );
    const e = await oauthError(exchangeCode(integration, { code: 'CODE-canary', pending }, { fetch }));
    expect(e).toMatchObject({
      code: 'invalid_grant',
      status: 400,
      description: 'PKCE verification failed.',
      trackingId: 'ROUTER_X',
    });
    expect(e.needsReauth).toBe(true);
    expect(e.retryable).toBe(false);
    noSecrets(e);
  });

  it('maps a 401 invalid_client (wrong secret)', async () => {
    const { fetch } = fakeFetch(json({ error: 'invalid_client', error_description: 'Bad client credentials' }, 401));
    const e = await oauthError(exchangeCode(integration, { code: 'c', pending }, { fetch }));
    expect(e).toMatchObject({ code: 'invalid_client', status: 401 });
    expect(e.needsReauth).toBe(false);
    noSecrets(e);
  });

  it('maps a network failure to network_error with status 0, and rethrows an abort', async () => {
    const e = await oauthError(
      exchangeCode(integration, { code: 'c', pending }, { fetch: () => Promise.reject(new TypeError('fetch failed')) }),
    );
    expect(e).toMatchObject({ code: 'network_error', status: 0 });
    expect(e.retryable).toBe(true);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(
      exchangeCode(
        integration,
        { code: 'c', pending },
        { signal: ac.signal, fetch: () => Promise.reject(new Error('aborted')) },
      ),
    ).rejects.toThrow('stop');
  });
});

describe('refreshAccessToken', () => {
  it('sends grant_type=refresh_token and keeps the old refresh token when none comes back', async () => {
    const body: Record<string, unknown> = tokenBody({ access_token: 'AT-new' });
    delete body.refresh_token;
    const { fetch, seen } = fakeFetch(json(body));
    const t = await refreshAccessToken(integration, 'RT-canary-2222', { fetch, clock });
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'RT-canary-2222',
      client_id: integration.clientId,
      client_secret: integration.clientSecret,
    });
    expect(t.accessToken).toBe('AT-new');
    expect(t.refreshToken).toBe('RT-canary-2222');
  });

  it('stores a rotated refresh token', async () => {
    const { fetch } = fakeFetch(json(tokenBody({ refresh_token: 'RT-rotated' })));
    expect((await refreshAccessToken(integration, 'RT-old', { fetch })).refreshToken).toBe('RT-rotated');
  });

  it('maps Webex refresh errors: 400 invalid_request (OAuth shape with trackingID) → needsReauth', async () => {
    const { fetch } = fakeFetch(
      json(
        {
          error: 'invalid_request',
          error_description: 'The refresh token provided is expired, revoked, malformed, or invalid.',
          trackingID: 'CLIENT_61d4aed7',
        },
        400,
      ),
    );
    const e = await oauthError(refreshAccessToken(integration, 'RT-canary-2222', { fetch }));
    expect(e).toMatchObject({ code: 'invalid_request', status: 400, trackingId: 'CLIENT_61d4aed7' });
    expect(e.description).toMatch(/expired, revoked/);
    expect(e.needsReauth).toBe(true);
    noSecrets(e);
  });

  it('maps the REST-envelope error shape (message, errors[].description, trackingId)', async () => {
    const { fetch } = fakeFetch(
      json(
        {
          message: 'The request could not be understood by the server due to malformed syntax.',
          errors: [{ description: 'Client Id is invalid' }],
          trackingId: 'ROUTER_62E068B0',
        },
        400,
      ),
    );
    const e = await oauthError(refreshAccessToken(integration, 'RT', { fetch }));
    expect(e).toMatchObject({
      code: 'invalid_request',
      status: 400,
      description: 'Client Id is invalid',
      trackingId: 'ROUTER_62E068B0',
    });
  });

  it('maps 429 to rate_limited with retryAfter, and 5xx HTML to a retryable server_error', async () => {
    const { fetch } = fakeFetch(
      new Response('<html>Too many</html>', {
        status: 429,
        headers: { 'Retry-After': '7', 'content-type': 'text/html' },
      }),
      new Response('<html>Bad gateway</html>', { status: 502, headers: { TrackingID: 'NA_1' } }),
      json({ message: 'Service Unavailable' }, 503, { 'Retry-After': '3' }),
    );
    const r429 = await oauthError(refreshAccessToken(integration, 'RT', { fetch }));
    expect(r429).toMatchObject({ code: 'rate_limited', status: 429, retryAfter: 7 });
    expect(r429.retryable).toBe(true);
    expect(r429.needsReauth).toBe(false);
    const r502 = await oauthError(refreshAccessToken(integration, 'RT', { fetch }));
    expect(r502).toMatchObject({ code: 'server_error', status: 502, trackingId: 'NA_1' });
    expect(r502.retryable).toBe(true);
    const r503 = await oauthError(refreshAccessToken(integration, 'RT', { fetch }));
    expect(r503).toMatchObject({ code: 'temporarily_unavailable', status: 503, retryAfter: 3 });
  });

  it('passes requested scopes as the fallback for a legacy response', async () => {
    const { fetch } = fakeFetch(json(tokenBody({ scope: undefined, token_type: undefined })));
    const t = await refreshAccessToken(integration, 'RT', { fetch, requestedScopes: ['spark:all'] });
    expect(t.scopes).toEqual(['spark:all']);
    expect(t.scopeReported).toBe(false);
  });
});

describe('processTokenResponse', () => {
  const ctx = { clock, requestedScopes: ['spark:people_read'] };

  it('accepts a legacy response without token_type and scope', async () => {
    const body: Record<string, unknown> = tokenBody();
    delete body.token_type;
    delete body.scope;
    const t = await processTokenResponse(json(body), ctx);
    expect(t.tokenType).toBe('Bearer');
    expect(t.scopes).toEqual(['spark:people_read']);
    expect(t.scopeReported).toBe(false);
  });

  it('accepts a lower-case bearer and numeric strings for lifetimes', async () => {
    const t = await processTokenResponse(json(tokenBody({ token_type: 'bearer', expires_in: '64799' })), ctx);
    expect(t.expiresAt).toBe(clock() + 64799_000);
  });

  it.each(['access_token', 'refresh_token', 'expires_in', 'refresh_token_expires_in'])(
    'rejects a response without %s as invalid_response naming the field',
    async (field) => {
      const body: Record<string, unknown> = tokenBody();
      delete body[field];
      const e = await oauthError(processTokenResponse(json(body), ctx));
      expect(e.code).toBe('invalid_response');
      expect(e.description).toContain(field);
      noSecrets(e);
    },
  );

  it('rejects a non-Bearer token type, a non-JSON body and a negative lifetime', async () => {
    expect((await oauthError(processTokenResponse(json(tokenBody({ token_type: 'MAC' })), ctx))).description).toContain(
      'token_type',
    );
    expect((await oauthError(processTokenResponse(new Response('<html>'), ctx))).code).toBe('invalid_response');
    expect((await oauthError(processTokenResponse(json(tokenBody({ expires_in: -1 })), ctx))).code).toBe(
      'invalid_response',
    );
    expect((await oauthError(processTokenResponse(json([1]), ctx))).code).toBe('invalid_response');
  });

  it('treats an OAuth error inside a 200 answer as that error', async () => {
    const e = await oauthError(processTokenResponse(json({ error: 'invalid_grant', error_description: 'used' }), ctx));
    expect(e).toMatchObject({ code: 'invalid_grant', status: 400, description: 'used' });
    expect(e.needsReauth).toBe(true);
  });

  it('maps tokenlimit_reached and an HTTP-date Retry-After', async () => {
    const e = await oauthError(processTokenResponse(json({ error: 'tokenlimit_reached' }, 400), ctx));
    expect(e.code).toBe('tokenlimit_reached');
    const at = new Date(clock() + 30_000).toUTCString();
    const r = await oauthError(
      processTokenResponse(new Response('', { status: 429, headers: { 'Retry-After': at } }), ctx),
    );
    expect(r.retryAfter).toBe(30);
  });
});
