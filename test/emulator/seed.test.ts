/** Seed validation: the demo seed is valid; a bad seed is one line naming the field path. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { restId } from '../../src/emulator/ids.js';
import { DEMO_SEED, SeedError, seededRoomId, startEmulator, validateSeed } from '../../src/emulator/index.js';

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

  it('users[].orgId: a REST org id (padding dropped) or a bare UUID (encoded); default none', () => {
    const uuid = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
    const rest = restId('ORGANIZATION', uuid);
    const seed = structuredClone(DEMO_SEED) as any;
    seed.users[0].orgId = uuid.toUpperCase();
    seed.users[1].orgId = Buffer.from(`ciscospark://us/ORGANIZATION/${uuid}`).toString('base64');
    expect(seed.users[1].orgId).toMatch(/=$/);
    const ok = validateSeed(seed);
    expect(ok.users.map((u) => u.orgId)).toEqual([rest, rest]);
    expect(validateSeed(DEMO_SEED).users[0]?.orgId).toBeUndefined();
  });

  it('names a bad orgId or role', () => {
    const orgMsg =
      /^seed: users\[0\]\.orgId: must be a Webex org id \(base64 of ciscospark:\/\/us\/ORGANIZATION\/<uuid>\)/;
    expect(bad((s) => (s.users[0].orgId = 'acme'))).toMatch(orgMsg);
    expect(bad((s) => (s.users[0].orgId = ''))).toMatch(orgMsg);
    expect(bad((s) => (s.users[0].orgId = 42))).toMatch(/^seed: users\[0\]\.orgId: /);
    // A REST id of another type, a non-UUID org, another region, and trailing junk are not org ids.
    expect(bad((s) => (s.users[0].orgId = restId('PEOPLE', '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0')))).toMatch(orgMsg);
    expect(bad((s) => (s.users[0].orgId = restId('ORGANIZATION', 'acme')))).toMatch(orgMsg);
    expect(
      bad(
        (s) =>
          (s.users[0].orgId = Buffer.from('ciscospark://eu/ORGANIZATION/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0')
            .toString('base64')
            .replace(/=+$/, '')),
      ),
    ).toMatch(orgMsg);
    expect(
      bad((s) => (s.users[0].orgId = `${restId('ORGANIZATION', '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0')}x`)),
    ).toMatch(orgMsg);
    expect(bad((s) => (s.users[1].roles = ['owner']))).toMatch(/^seed: users\[1\]\.roles\[0\]: /);
    expect(bad((s) => (s.users[1].roles = ['full_admin', 'Full_Admin']))).toMatch(/^seed: users\[1\]\.roles\[1\]: /);
    expect(bad((s) => (s.users[1].roles = 'full_admin'))).toMatch(/^seed: users\[1\]\.roles: /);
    expect(bad((s) => (s.users[1].roles = ['user_admin', 'user_admin']))).toBe(
      'seed: users[1].roles[1]: duplicate role "user_admin"',
    );
    const ok = structuredClone(DEMO_SEED) as any;
    ok.users[1].roles = ['full_admin', 'user_admin', 'device_admin'];
    expect(validateSeed(ok).users[1]?.roles).toEqual(['full_admin', 'user_admin', 'device_admin']);
  });

  it('loads test/e2e/fixtures/team-seed.json: made-up credentials, org A (Alice, Carol the admin) and org B', () => {
    const json = JSON.parse(readFileSync(new URL('../e2e/fixtures/team-seed.json', import.meta.url), 'utf8'));
    expect(json._comment).toMatch(/made up/i);
    expect(json._comment).toMatch(/emulator only/i);
    const seed = validateSeed(json);
    expect(seed.integrations).toHaveLength(1);
    expect(seed.integrations[0]).toMatchObject({
      clientId: 'Cteamtest0000000000000000000000000000000000000000000000000000000001',
      clientSecret: 'team-test-secret-for-the-emulator-only',
      redirectUris: ['http://localhost:18481/oauth', 'http://localhost:18482/oauth', 'http://127.0.0.1:18481/oauth'],
    });
    const orgA = restId('ORGANIZATION', '6b0a1c3e-2f4d-4e5a-9b7c-8d1e2f3a4b5c');
    const orgB = restId('ORGANIZATION', 'd4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70');
    expect(seed.users.map((u) => [u.email, u.displayName, u.orgId, u.roles])).toEqual([
      ['alice@example.com', 'Alice Example', orgA, undefined],
      ['carol@example.com', 'Carol Admin', orgA, ['full_admin']],
      ['dave@other.example', 'Dave Outsider', orgB, undefined],
      ['erin@example.com', 'Erin Elsewhere', orgB, undefined],
    ]);
  });

  it('rejects non-objects', () => {
    expect(() => validateSeed(null)).toThrow(/^seed: \(root\): /);
    expect(() => validateSeed([1])).toThrow(SeedError);
  });
});

describe('seededRoomId', () => {
  it('is the id the running emulator lists for the seeded room, for a member only', async () => {
    const running = await startEmulator({ seed: DEMO_SEED });
    try {
      const bot = DEMO_SEED.bots[0] as (typeof DEMO_SEED.bots)[number];
      const res = await running.app.inject({ url: '/v1/rooms', headers: { authorization: `Bearer ${bot.token}` } });
      const listed = (res.json() as { items: { id: string; title: string }[] }).items;
      const room = listed.find((r) => r.title === 'Demo space');
      expect(room?.id).toBeTruthy();
      expect(seededRoomId(DEMO_SEED, 'Demo space', bot.email.toUpperCase())).toBe(room?.id);
      expect(seededRoomId(DEMO_SEED, 'Demo space', 'bob@example.com')).toBeUndefined();
      expect(seededRoomId(DEMO_SEED, 'No such space', bot.email)).toBeUndefined();
    } finally {
      await running.close();
    }
  });
});
