/** Seed validation: the demo seed is valid; a bad seed is one line naming the field path. */
import { describe, expect, it } from 'vitest';
import { DEMO_SEED, SeedError, validateSeed } from '../../src/emulator/index.js';

const bad = (mutate: (s: any) => void) => {
  const s = structuredClone(DEMO_SEED) as any;
  mutate(s);
  try {
    validateSeed(s);
  } catch (error) {
    expect(error).toBeInstanceOf(SeedError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('seed was accepted');
};

describe('validateSeed', () => {
  it('accepts the demo seed, which says it is for the local emulator only', () => {
    const seed = validateSeed(DEMO_SEED);
    expect(seed.integrations[0]?.redirectUris).toEqual([
      'http://localhost:8080/oauth',
      'http://localhost:8080/webex-auth.html',
      'http://127.0.0.1:8080/oauth',
    ]);
    expect(DEMO_SEED._comment).toMatch(/local .*emulator only/i);
  });

  it('names the bad field', () => {
    expect(bad((s) => delete s.integrations[0].clientSecret)).toMatch(/^seed: integrations\[0\]\.clientSecret: /);
    expect(bad((s) => (s.integrations[0].redirectUris[1] = 'not a url'))).toMatch(
      /^seed: integrations\[0\]\.redirectUris\[1\]: /,
    );
    expect(bad((s) => (s.users[1].email = 'bob'))).toMatch(/^seed: users\[1\]\.email: must be an email/);
    expect(bad((s) => s.rooms[0].members.push('nobody@example.com'))).toBe(
      'seed: rooms[0].members[2]: unknown person "nobody@example.com"',
    );
    expect(bad((s) => (s.bots[0].email = 'bot@example.com'))).toMatch(/^seed: bots\[0\]\.email: /);
    expect(bad((s) => (s.extra = 1))).toMatch(/^seed: /);
    expect(bad((s) => (s.integrations = []))).toMatch(/^seed: integrations: /);
  });

  it('rejects non-objects', () => {
    expect(() => validateSeed(null)).toThrow(/^seed: \(root\): /);
    expect(() => validateSeed([1])).toThrow(SeedError);
  });
});
