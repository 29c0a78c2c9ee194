// The token route's pre-serialized answers (src/server/routes/api/token-body.ts): a reused body is always the one
// built afresh, and anything in it changing gives a new one.
import { describe, expect, it } from 'vitest';
import { createTokenBodies, tokenBody } from '../../src/server/routes/api/token-body.js';
import type { FreshToken } from '../../src/vault/types.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

function token(over: Partial<FreshToken> = {}): FreshToken {
  return {
    accessToken: 'access-1',
    minValidityMet: true,
    expiresAt: NOW + 3_600_500,
    scopes: ['spark:people_read'],
    person: { id: 'p1', email: 'alice@example.com', displayName: 'Alice' },
    ...over,
  };
}

describe('token bodies', () => {
  it('is the JSON of the answer, with expires_in in whole seconds', () => {
    expect(JSON.parse(tokenBody(token(), NOW))).toEqual({
      access_token: 'access-1',
      token_type: 'Bearer',
      expires_at: new Date(NOW + 3_600_500).toISOString(),
      expires_in: 3600,
      scopes: ['spark:people_read'],
      min_validity_met: true,
      person: { id: 'p1', email: 'alice@example.com', display_name: 'Alice' },
    });
    expect(JSON.parse(tokenBody(token({ expiresAt: NOW - 5000 }), NOW)).expires_in).toBe(0);
  });

  it('reuses a body within the same expires_in second, and equals a fresh one at every instant', () => {
    const bodies = createTokenBodies();
    const first = bodies('c1', token(), NOW);
    // A new object with the same content (the vault builds one per call) within the same second: the same string.
    expect(bodies('c1', token(), NOW + 400)).toBe(first);
    for (const at of [NOW, NOW + 500, NOW + 501, NOW + 1_500, NOW + 1_501, NOW + 60_000]) {
      expect(bodies('c1', token(), at)).toBe(tokenBody(token(), at));
    }
    expect(JSON.parse(bodies('c1', token(), NOW + 501)).expires_in).toBe(3599);
  });

  it('builds a new body when the token, its expiry, min_validity_met, the person or the scopes change', () => {
    const bodies = createTokenBodies();
    bodies('c1', token(), NOW);
    const changes: Partial<FreshToken>[] = [
      { accessToken: 'access-2' },
      { expiresAt: NOW + 7_200_500 },
      { minValidityMet: false },
      { person: { id: 'p1', email: 'alice@example.com', displayName: 'Alice B' } },
      { person: { id: 'p1', email: 'alice2@example.com', displayName: 'Alice' } },
      { scopes: ['spark:people_read', 'spark:messages_write'] },
      { scopes: ['spark:messages_write'] },
    ];
    for (const change of changes) {
      const t = token(change);
      expect(bodies('c1', t, NOW), JSON.stringify(change)).toBe(tokenBody(t, NOW));
    }
    // Per connection: another connection's token never answers for this one.
    expect(JSON.parse(bodies('c2', token({ accessToken: 'other' }), NOW)).access_token).toBe('other');
    expect(JSON.parse(bodies('c1', token(), NOW)).access_token).toBe('access-1');
  });

  it('answers right for more connections than it holds', () => {
    const bodies = createTokenBodies(2);
    for (const id of ['a', 'b', 'c', 'a', 'c', 'b']) {
      const t = token({ accessToken: `access-${id}` });
      expect(bodies(id, t, NOW)).toBe(tokenBody(t, NOW));
    }
  });
});
