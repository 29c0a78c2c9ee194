import { describe, expect, it } from 'vitest';
import { explainOAuthError } from '../../src/oauth/callback.js';
import {
  CallbackError,
  IdTokenError,
  ScopeError,
  StateMismatchError,
  WebexOAuthError,
} from '../../src/oauth/errors.js';
import { refusedScopes } from '../../src/oauth/explain.js';
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

  it("invalid_scope names the refused scope: from Webex's description, else requested vs registered", () => {
    const bare = new WebexOAuthError({ code: 'invalid_scope', status: 400 });
    // Nothing known: the generic text, no scope named.
    expect(explainOAuthError(bare).explanation).toMatch(/A requested scope is not registered/);
    // Requested against the integration's registered scopes (openid needs no registration).
    const x = explainOAuthError(bare, {
      requestedScopes: ['spark:people_read', 'spark:messages_read', 'openid'],
      integrationScopes: ['spark:people_read', 'spark:rooms_read'],
    });
    expect(x.title).toBe('Scope not allowed');
    expect(x.explanation).toContain('Webex refused the scope spark:messages_read');
    expect(x.explanation).not.toContain('openid');
    expect(x.action).toContain('spark:messages_read');
    // Webex's description names one: that wins over the difference, and several are listed.
    const described = new WebexOAuthError({
      code: 'invalid_scope',
      status: 400,
      description: 'Scope <b>spark:rooms_write</b> is not allowed for this client.',
    });
    const y = explainOAuthError(described, {
      requestedScopes: ['spark:rooms_write', 'spark:messages_read'],
      integrationScopes: ['spark:people_read'],
    });
    expect(y.explanation).toContain('Webex refused the scope spark:rooms_write:');
    expect(y.explanation).not.toContain('spark:messages_read');
    expect(y.explanation).not.toMatch(/[<>]/);
    // Without context, a scope-shaped word of the description is named.
    expect(explainOAuthError(described).explanation).toContain('refused the scope spark:rooms_write');
    expect(refusedScopes(undefined, { requestedScopes: ['a:b', 'c:d'], integrationScopes: ['x:y'] })).toEqual([
      'a:b',
      'c:d',
    ]);
    expect(
      explainOAuthError(bare, { requestedScopes: ['a:b', 'c:d'], integrationScopes: ['x:y'] }).explanation,
    ).toContain('refused the scopes a:b, c:d: they are');
    // Other codes are untouched by the context.
    expect(
      explainOAuthError(new WebexOAuthError({ code: 'access_denied', status: 400 }), {
        requestedScopes: ['a:b'],
        integrationScopes: ['x:y'],
      }).explanation,
    ).not.toContain('a:b');
  });
});
