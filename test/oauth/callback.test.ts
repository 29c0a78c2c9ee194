import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCallback } from '../../src/oauth/callback.js';
import { CallbackError, StateMismatchError, WebexOAuthError } from '../../src/oauth/errors.js';
import type { PendingAuthorization } from '../../src/oauth/types.js';

const pending: PendingAuthorization = {
  state: 'state-abc_123',
  codeVerifier: 'v'.repeat(43),
  redirectUri: 'http://localhost:8080/oauth',
  scopes: ['spark:all'],
  createdAt: 0,
};

const cb = (q: string) => `http://localhost:8080/oauth?${q}`;

describe('parseCallback', () => {
  it('returns the code with its pending authorization (URL, string, path, query and URLSearchParams)', () => {
    expect(parseCallback(cb('code=CODE_PF84_x&state=state-abc_123'), pending)).toEqual({
      code: 'CODE_PF84_x',
      pending,
    });
    expect(parseCallback(new URL(cb('state=state-abc_123&code=c')), pending).code).toBe('c');
    expect(parseCallback('/oauth?state=state-abc_123&code=c', pending).code).toBe('c');
    expect(parseCallback('?state=state-abc_123&code=c', pending).code).toBe('c');
    expect(parseCallback('state=state-abc_123&code=c', pending).code).toBe('c');
    expect(parseCallback(new URLSearchParams({ state: pending.state, code: 'c' }), pending).code).toBe('c');
  });

  it('looks the pending authorization up by state', () => {
    const store = new Map([[pending.state, pending]]);
    expect(parseCallback(cb('code=c&state=state-abc_123'), (s) => store.get(s)).pending).toBe(pending);
    expect(() => parseCallback(cb('code=c&state=other'), (s) => store.get(s))).toThrow(StateMismatchError);
  });

  it.each([
    ['access_denied', undefined],
    ['invalid_scope', 'The requested scope is invalid.'],
    ['server_error', undefined],
    ['login_required', undefined],
  ])('turns error=%s into a WebexOAuthError (status 400), before any state check', (error, description) => {
    const q = new URLSearchParams({ error, state: 'whatever' });
    if (description) q.set('error_description', description);
    try {
      parseCallback(cb(q.toString()), pending);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WebexOAuthError);
      const err = e as WebexOAuthError;
      expect(err.code).toBe(error);
      expect(err.status).toBe(400);
      expect(err.description).toBe(description);
      expect(err.retryable).toBe(false);
      expect(err.needsReauth).toBe(false);
    }
  });

  it('rejects a state mismatch, a missing or repeated code/state', () => {
    expect(() => parseCallback(cb('code=c&state=state-abc_124'), pending)).toThrow(StateMismatchError);
    expect(() => parseCallback(cb('code=c&state=state-abc_12'), pending)).toThrow(StateMismatchError);
    expect(() => parseCallback(cb('code=c'), pending)).toThrow(CallbackError);
    expect(() => parseCallback(cb('code=c&state='), pending)).toThrow(CallbackError);
    expect(() => parseCallback(cb('state=state-abc_123'), pending)).toThrow(CallbackError);
    expect(() => parseCallback(cb('state=state-abc_123&code='), pending)).toThrow(CallbackError);
    expect(() => parseCallback(cb('code=a&code=b&state=state-abc_123'), pending)).toThrow(/repeats the "code"/);
    expect(() => parseCallback(cb('code=a&state=state-abc_123&state=state-abc_123'), pending)).toThrow(CallbackError);
    expect(() => parseCallback('http://[::1', pending)).toThrow(CallbackError);
  });

  it('never puts the code into an error message', () => {
    try {
      parseCallback(cb('code=SECRET-CODE&state=nope'), pending);
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('SECRET-CODE');
    }
  });

  it('accepts a state only when it is exactly equal (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (expected, got) => {
        const p = { ...pending, state: expected };
        const q = new URLSearchParams({ code: 'c', state: got });
        if (got === expected) expect(parseCallback(q, p).code).toBe('c');
        else expect(() => parseCallback(q, p)).toThrow(StateMismatchError);
      }),
    );
  });
});

describe('parseCallback fragment tolerance', () => {
  it('reads code and state from the fragment when the query has none (Webex prose says fragment)', () => {
    expect(parseCallback('http://localhost:8080/oauth#code=c&state=state-abc_123', pending).code).toBe('c');
    expect(() => parseCallback(new URL('http://localhost:8080/oauth#error=access_denied&state=x'), pending)).toThrow(
      WebexOAuthError,
    );
    expect(parseCallback('http://localhost:8080/oauth?code=q&state=state-abc_123#code=f', pending).code).toBe('q');
  });
});
