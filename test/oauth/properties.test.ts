import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCallback } from '../../src/oauth/callback.js';
import { CallbackError, StateMismatchError, WebexOAuthError } from '../../src/oauth/errors.js';
import { processTokenResponse } from '../../src/oauth/tokens.js';
import type { PendingAuthorization } from '../../src/oauth/types.js';
import { nextLink } from '../../src/webex/link.js';
import { json, tokenBody } from './helpers.js';

const pending: PendingAuthorization = {
  state: 'S',
  codeVerifier: '',
  redirectUri: 'http://x/cb',
  scopes: [],
  createdAt: 0,
};

describe('properties', () => {
  it('parseCallback never crashes: it returns or throws one of the typed errors', () => {
    const typed = (e: unknown) =>
      e instanceof WebexOAuthError || e instanceof StateMismatchError || e instanceof CallbackError;
    const key = fc.constantFrom('code', 'state', 'error', 'error_description', 'x');
    const query = fc
      .array(fc.tuple(key, fc.oneof(fc.constant('S'), fc.string())))
      .map((kv) => new URLSearchParams(kv).toString());
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          query,
          query.map((q) => `http://localhost/cb?${q}`),
        ),
        (input) => {
          try {
            const r = parseCallback(input, pending);
            expect(r.code.length).toBeGreaterThan(0);
          } catch (e) {
            expect(typed(e)).toBe(true);
          }
        },
      ),
    );
  });

  it('processTokenResponse either gives a token set or an invalid_response error for any JSON body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (body) => {
        try {
          const t = await processTokenResponse(json(body), { requestedScopes: ['spark:all'], clock: () => 0 });
          expect(t.accessToken).toBeTypeOf('string');
        } catch (e) {
          expect(e).toBeInstanceOf(WebexOAuthError);
        }
      }),
    );
  });

  it('expiry times are receipt time plus the returned lifetimes, whatever they are', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(10 ** 9), fc.nat(10 ** 9), fc.nat(2 ** 40), async (a, r, now) => {
        const t = await processTokenResponse(json(tokenBody({ expires_in: a, refresh_token_expires_in: r })), {
          requestedScopes: [],
          clock: () => now,
        });
        expect([t.expiresAt, t.refreshExpiresAt, t.receivedAt]).toEqual([now + a * 1000, now + r * 1000, now]);
      }),
    );
  });

  it('nextLink finds the next link among any others', () => {
    const url = fc
      .tuple(fc.constantFrom('rooms', 'people', 'messages'), fc.base64String(), fc.nat(1000))
      .map(([r, c, m]) => `https://webexapis.example/v1/${r}?max=${m}&cursor=${encodeURIComponent(c)}`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(url, fc.constantFrom('prev', 'first', 'last'))),
        url,
        fc.nat(),
        (others, next, at) => {
          const links = others.map(([u, rel]) => `<${u}>; rel="${rel}"`);
          links.splice(at % (links.length + 1), 0, `<${next}>; rel="next"`);
          expect(nextLink(links.join(', '), 'https://base.example/v1')).toBe(new URL(next).toString());
        },
      ),
    );
  });
});
