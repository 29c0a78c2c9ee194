import { describe, expect, it } from 'vitest';
import { explainOAuthError } from '../../src/oauth/callback.js';
import {
  CallbackError,
  IdTokenError,
  ScopeError,
  StateMismatchError,
  WebexOAuthError,
} from '../../src/oauth/errors.js';
import { WebexApiError } from '../../src/webex/errors.js';

const codes = [
  'access_denied',
  'invalid_scope',
  'server_error',
  'login_required',
  'invalid_grant',
  'invalid_request',
  'invalid_client',
  'tokenlimit_reached',
  'rate_limited',
  'network_error',
  'invalid_response',
  'expired_token',
  'something_new',
];

describe('explainOAuthError', () => {
  it.each(codes)('explains WebexOAuthError %s in plain text', (code) => {
    const x = explainOAuthError(
      new WebexOAuthError({ code, status: 400, trackingId: 'ROUTER_7', description: '<b>desc</b>' }),
    );
    for (const t of [x.title, x.explanation, x.action]) {
      expect(t).toMatch(/\w/);
      expect(t).not.toMatch(/[<>]/);
    }
    expect(x.explanation).toContain('ROUTER_7');
  });

  it('distinguishes decline, reauth and credentials, and gives Retry-After', () => {
    expect(explainOAuthError(new WebexOAuthError({ code: 'access_denied', status: 400 })).title).toMatch(/declined/i);
    expect(explainOAuthError(new WebexOAuthError({ code: 'invalid_client', status: 401 })).action).toMatch(/secret/);
    expect(
      explainOAuthError(new WebexOAuthError({ code: 'rate_limited', status: 429, retryAfter: 12 })).action,
    ).toMatch(/12 s/);
  });

  it('explains the other error classes and unknown errors, without leaking their text blindly', () => {
    for (const e of [
      new StateMismatchError('x'),
      new CallbackError('The authorization callback has no "code".'),
      new IdTokenError('The id_token is invalid: its nonce does not match the authorization request.'),
      new ScopeError('Unknown Webex scope "x:y"'),
      new Error('secret AT-canary'),
      'a string',
      undefined,
    ]) {
      const x = explainOAuthError(e);
      expect(x.title).toMatch(/\w/);
      expect(JSON.stringify(x)).not.toContain('AT-canary');
    }
    expect(explainOAuthError(new StateMismatchError('x')).action).toMatch(/again/);
  });

  it('explains REST errors, listing the scopes a 403 needs', () => {
    const x = explainOAuthError(
      new WebexApiError({ method: 'GET', path: '/rooms', status: 403, trackingId: 'ROUTER_3' }),
    );
    expect(x.explanation).toContain('spark:rooms_read');
    expect(x.explanation).toContain('ROUTER_3');
    expect(explainOAuthError(new WebexApiError({ method: 'GET', path: '/people/me', status: 401 })).title).toMatch(
      /rejected/,
    );
  });
});
