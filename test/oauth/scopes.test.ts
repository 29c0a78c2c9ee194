import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScopeError } from '../../src/oauth/errors.js';
import { parseScopes, scopeDiff, validateScopes } from '../../src/oauth/scopes.js';
import { SCOPES } from '../../src/scopes/catalog.js';

const scopeName = fc.constantFrom(...SCOPES.map((s) => s.name));

describe('scopes', () => {
  it('parses space, %20 and + separated lists, dropping blanks and duplicates', () => {
    expect(parseScopes('  spark:all   openid ')).toEqual(['spark:all', 'openid']);
    expect(parseScopes('spark:all%20openid+email')).toEqual(['spark:all', 'openid', 'email']);
    expect(parseScopes('openid openid')).toEqual(['openid']);
    expect(parseScopes('')).toEqual([]);
  });

  it('round-trips any list of distinct catalog scopes', () => {
    fc.assert(
      fc.property(fc.uniqueArray(scopeName), fc.constantFrom(' ', '%20', '+', '  '), (scopes, sep) => {
        expect(parseScopes(scopes.join(sep))).toEqual(scopes);
      }),
    );
  });

  it('diffs requested and granted scopes', () => {
    expect(
      scopeDiff(['spark:people_read', 'spark:rooms_read', 'openid'], ['openid', 'spark:people_read', 'spark:kms']),
    ).toEqual({
      granted: ['openid', 'spark:people_read', 'spark:kms'],
      missing: ['spark:rooms_read'],
      extra: ['spark:kms'],
    });
  });

  it('scopeDiff partitions: missing ∪ (granted ∩ requested) = requested', () => {
    fc.assert(
      fc.property(fc.array(scopeName), fc.array(scopeName), (req, gr) => {
        const d = scopeDiff(req, gr);
        const r = new Set(req);
        expect(new Set([...d.missing, ...d.granted.filter((g) => r.has(g))])).toEqual(r);
        for (const e of d.extra) expect(r.has(e)).toBe(false);
      }),
    );
  });

  it('rejects unknown and empty scope lists with a ScopeError naming the scope', () => {
    expect(() => validateScopes(['spark:people_read', 'spark:peoples_read'])).toThrow(ScopeError);
    expect(() => validateScopes(['spark:peoples_read'])).toThrow(/spark:peoples_read/);
    expect(() => validateScopes([' '])).toThrow(/No scope/);
    expect(validateScopes(['openid', 'openid', 'email'])).toEqual(['openid', 'email']);
  });
});
