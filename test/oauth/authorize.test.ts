import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { createAuthorizationRequest, pkceChallenge } from '../../src/oauth/authorize.js';
import { ScopeError } from '../../src/oauth/errors.js';
import { integration } from './helpers.js';

describe('createAuthorizationRequest', () => {
  it('builds the Webex authorize URL with %20 scopes, state and PKCE S256', async () => {
    const { url, pending } = createAuthorizationRequest({
      integration,
      scopes: ['spark:people_read', 'spark:rooms_read'],
      clock: () => 1_000,
    });
    expect(url.startsWith('https://webexapis.example/v1/authorize?')).toBe(true);
    expect(url).toContain('scope=spark%3Apeople_read%20spark%3Arooms_read');
    expect(url).not.toContain('+');
    const q = new URL(url).searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(integration.clientId);
    expect(q.get('redirect_uri')).toBe(integration.redirectUri);
    expect(q.get('state')).toBe(pending.state);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toBe(await oauth.calculatePKCECodeChallenge(pending.codeVerifier));
    expect(q.has('nonce')).toBe(false);
    expect(q.has('client_secret')).toBe(false);
    expect(url).not.toContain(integration.clientSecret);
    expect(pending).toEqual({
      state: pending.state,
      codeVerifier: pending.codeVerifier,
      redirectUri: integration.redirectUri,
      scopes: ['spark:people_read', 'spark:rooms_read'],
      createdAt: 1_000,
    });
    expect(pending.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
  });

  it('makes a fresh unguessable state and verifier every time', () => {
    const states = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { pending } = createAuthorizationRequest({ integration, scopes: ['spark:all'] });
      states.add(pending.state);
      // 32 random bytes each, base64url without padding (as oauth4webapi's generateRandomState makes them).
      expect(pending.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(pending.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(pending.codeVerifier).not.toBe(pending.state);
    }
    expect(states.size).toBe(50);
  });

  it('adds a nonce for openid, and prompt / login_hint when asked', () => {
    const { url, pending } = createAuthorizationRequest({
      integration,
      scopes: ['openid', 'email', 'spark:people_read'],
      prompt: 'select_account',
      loginHint: 'alice@example.com',
    });
    const q = new URL(url).searchParams;
    expect(pending.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([pending.state, pending.codeVerifier, pending.nonce]).size).toBe(3);
    expect(q.get('nonce')).toBe(pending.nonce);
    expect(q.get('prompt')).toBe('select_account');
    expect(q.get('login_hint')).toBe('alice@example.com');
  });

  it('can leave PKCE out', () => {
    const { url, pending } = createAuthorizationRequest({ integration, scopes: ['spark:all'], pkce: false });
    expect(url).not.toContain('code_challenge');
    expect(pending.codeVerifier).toBe('');
  });

  it('rejects an unknown scope by name', () => {
    expect(() => createAuthorizationRequest({ integration, scopes: ['spark:all', 'spark:everything'] })).toThrow(
      ScopeError,
    );
    expect(() => createAuthorizationRequest({ integration, scopes: ['spark:everything'] })).toThrow(/spark:everything/);
    expect(() => createAuthorizationRequest({ integration, scopes: [] })).toThrow(ScopeError);
  });

  it('computes the RFC 7636 appendix B challenge', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });
});
