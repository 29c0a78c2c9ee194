// `webex-auth keys` with permissions (issue 16, "Key permissions"): create --allow (default token), bad values are a
// usage error of one line, list shows each key's permissions and marks legacy keys (made before permissions) with the
// command that narrows them, narrow replaces them; create, narrow and revoke are in the audit log as the CLI's. No
// Webex is needed: the connection is seeded with fresh tokens, in the CLI's own SQLite store.
import { beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/vault/api-keys.js';
import { LOCAL_OPERATOR } from '../../src/vault/types.js';
import { isolatedEnv, runInProcess, storePeopleConnections, withStore } from './helpers.js';

let env: Record<string, string | undefined>;
let connectionId: string;

beforeAll(async () => {
  // The API base is never called (no command here talks to Webex).
  env = isolatedEnv({ WEBEX_API_BASE: 'http://127.0.0.1:9/v1' });
  const [alice] = await storePeopleConnections(env, 'http://127.0.0.1:9/v1', [{ email: 'alice@example.com' }]);
  connectionId = alice as string;
});

const run = (argv: string[]) => runInProcess(argv, { env });
const keysJson = async () =>
  JSON.parse((await run(['keys', 'list', '--json'])).stdout) as Array<{
    id: string;
    permissions: string[];
    legacy: boolean;
    paths: string[] | null;
    methods: string[] | null;
  }>;

describe('keys create --allow', () => {
  it('defaults to token; --allow sets the permissions; --paths and --methods limit proxy', async () => {
    const plain = await run(['keys', 'create', '--name', 'plain', '--json']);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ permissions: ['token'], connectionIds: [connectionId] });
    expect(plain.stderr).toContain('allowed: token');

    const two = await run(['keys', 'create', '--allow', 'refresh,token', '--json']);
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout).permissions).toEqual(['token', 'refresh']);

    const proxy = await run([
      'keys',
      'create',
      '--allow',
      'proxy',
      '--paths',
      'rooms,messages',
      '--methods',
      'get,POST',
    ]);
    expect(proxy.code).toBe(0);
    const listed = (await keysJson()).find((k) => k.permissions.includes('proxy'));
    expect(listed).toMatchObject({ permissions: ['proxy'], paths: ['rooms', 'messages'], methods: ['GET', 'POST'] });
  });

  it('bad values: exit 2 with one line naming the problem, and no key is made', async () => {
    const before = (await keysJson()).length;
    const cases: Array<[string[], RegExp]> = [
      [
        ['keys', 'create', '--allow', 'admin'],
        /^error: bad --allow: "admin" is not allowed \(one or more of token, refresh, proxy, delete, guests\)\n$/,
      ],
      [['keys', 'create', '--allow', ''], /bad --allow: expected a non-empty list/],
      [['keys', 'create', '--allow', 'token,token'], /bad --allow: "token" appears twice/],
      [['keys', 'create', '--allow', 'proxy', '--paths', '../admin'], /bad --paths: "\.\.\/admin" is not allowed/],
      [['keys', 'create', '--allow', 'proxy', '--methods', 'TRACE'], /bad --methods: "TRACE" is not allowed/],
      [['keys', 'create', '--paths', 'rooms'], /--paths and --methods limit the proxy permission/],
      [['keys', 'list', '--allow', 'token'], /--allow goes with keys create or keys narrow/],
      [['keys', 'narrow', 'key_x'], /keys narrow needs --allow/],
      [['keys', 'narrow', 'key_x', '--allow', 'root'], /bad --allow: "root"/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stdout, argv.join(' ')).toBe('');
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(r.stderr.split('\n').filter(Boolean), argv.join(' ')).toHaveLength(1);
    }
    expect(await keysJson()).toHaveLength(before);
  });
});

describe('keys list and narrow', () => {
  it('list shows permissions and marks a legacy key with the command that narrows it; narrow takes effect', async () => {
    // A key as made before permissions existed: its row has no permissions (NULL).
    const legacyId = 'key_legacy_cli';
    await withStore(env, (vault) =>
      vault.store.insertApiKey({
        id: legacyId,
        ownerId: LOCAL_OPERATOR,
        name: 'old-bot',
        keyHash: hashApiKey(`wak_${'L'.repeat(43)}`),
        prefix: 'wak_LLLL',
        connectionIds: [connectionId],
        createdAt: Date.now(),
        lastUsedAt: undefined,
        revokedAt: undefined,
      }),
    );
    const text = await run(['keys', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ID +NAME +PREFIX +PERMISSIONS +CONNECTIONS/);
    expect(text.stdout).toMatch(new RegExp(`${legacyId} +old-bot +wak_LLLL… +legacy: token,refresh,delete `));
    expect(text.stdout).toMatch(/ plain +wak_\S+ +token +1 /);
    expect(text.stderr).toContain(
      `${legacyId} legacy: token,refresh,delete — narrow with \`webex-auth keys narrow ${legacyId} --allow token\``,
    );
    expect((await keysJson()).find((k) => k.id === legacyId)).toMatchObject({
      legacy: true,
      permissions: ['token', 'refresh', 'delete'],
      paths: null,
      methods: null,
    });

    const narrowed = await run(['keys', 'narrow', legacyId, '--allow', 'token', '--json']);
    expect(narrowed.code).toBe(0);
    expect(JSON.parse(narrowed.stdout)).toEqual({ id: legacyId, permissions: ['token'], legacy: false });
    expect((await keysJson()).find((k) => k.id === legacyId)).toMatchObject({ legacy: false, permissions: ['token'] });
    const after = await run(['keys', 'list']);
    expect(after.stdout).not.toContain('legacy:');
    expect(after.stderr).not.toContain('narrow with');
    await withStore(env, async (vault) => {
      expect((await vault.apiKeys.verify(`wak_${'L'.repeat(43)}`))?.permissions).toEqual(['token']);
    });

    const unknown = await run(['keys', 'narrow', 'key_nope', '--allow', 'token']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no API key with id "key_nope"');
  });

  it('create, narrow and revoke are in the audit log as the CLI’s, with the key’s owner', async () => {
    const created = JSON.parse((await run(['keys', 'create', '--name', 'audited', '--json'])).stdout) as { id: string };
    expect((await run(['keys', 'narrow', created.id, '--allow', 'refresh'])).code).toBe(0);
    expect((await run(['keys', 'revoke', created.id])).code).toBe(0);
    const entries = await withStore(env, (vault) => vault.audit.list());
    const mine = entries.filter((e) => e.target === created.id);
    expect(mine.map((e) => e.action).sort()).toEqual(['key.create', 'key.narrow', 'key.revoke']);
    for (const e of mine) {
      expect(e).toMatchObject({ actor: { kind: 'cli' }, address: 'cli', ownerId: LOCAL_OPERATOR });
    }
    expect(mine.find((e) => e.action === 'key.create')?.detail).toBe('token');
    expect(mine.find((e) => e.action === 'key.narrow')?.detail).toBe('refresh (was token)');
  });
});
