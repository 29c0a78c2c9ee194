/**
 * `webex-auth keys create|list|narrow|revoke|rotate|generate|local`: broker API keys (shown once, stored as a hash,
 * each with permissions) and the encryption key ring (re-encrypt everything under the first key, with a progress bar;
 * generate a new key entry; print the development key, to carry a store to where `WEBEX_AUTH_KEYS` is set). Creating,
 * narrowing and revoking a key are recorded in the audit log (actor `cli`).
 */
import { validKeyMethods, validKeyPaths, validKeyPermissions } from '../../vault/records.js';
import {
  type ApiKeyRecord,
  type AuditAction,
  type Connection,
  KEY_PERMISSIONS,
  type KeyPermission,
  LOCAL_OPERATOR,
  type Vault,
} from '../../vault/types.js';
import { recordCliAudit } from '../audit.js';
import type { Command } from '../command.js';
import { loadCliConfig, localConnections, resolveConnection, withVault } from '../context.js';
import { CliError, EXIT } from '../io.js';
import { ownerEmails, ownerJson, ownerText } from '../ui/connection.js';
import { stripAnsi, table } from '../ui/format.js';
import { createOutput, JSON_FLAG, JSON_HELP, type Output } from '../ui/output.js';
import { startProgress } from '../ui/progress.js';
import { assertSubcommand } from './subcommand.js';

const SUBCOMMANDS = ['create', 'list', 'revoke', 'rotate', 'generate', 'local', 'narrow'];

/** The items of a comma-separated flag value (trimmed, empty items dropped). */
const items = (value: unknown): string[] =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
    : [];

/**
 * Checks a list flag with the vault's own check (the same rules as the web page), as a usage error of one line.
 * @throws {CliError} exit 2 naming the flag and the bad value.
 */
function checked<T>(flag: string, value: unknown, check: (v: unknown) => T, allowed: string): T {
  try {
    return check(items(value));
  } catch (err) {
    const why = (err as Error).message.replace(/^Invalid API key \w+: /, '').replace(/\.$/, '');
    throw new CliError(`bad --${flag}: ${why} (${allowed})`, EXIT.usage);
  }
}

/** `--allow`: the permissions of a new or narrowed key. */
const allowed = (value: unknown): KeyPermission[] =>
  checked(
    'allow',
    typeof value === 'string' ? value.toLowerCase() : value,
    validKeyPermissions,
    `one or more of ${KEY_PERMISSIONS.join(', ')}`,
  );

/** How a key's permissions read in `keys list`. */
function permissionsText(k: ApiKeyRecord): string {
  const text = k.permissions.join(',');
  return k.legacy ? `legacy: ${text}` : text;
}

/** Records what the CLI did to a key; a failure is one warning line. */
function audit(vault: Vault, out: Output, action: AuditAction, key: ApiKeyRecord, detail?: string) {
  return recordCliAudit(
    vault,
    { action, target: key.id, ownerId: key.ownerId, ...(detail ? { detail } : {}) },
    (line) => out.warn(line),
  );
}

const command: Command = {
  summary: 'Manage broker API keys and rotate the encryption key',
  usage:
    'keys create [--name <name>] [--connection <id|email>]… [--allow <permissions>] [--paths <p,…>] [--methods <m,…>] | list | narrow <id> --allow <permissions> | revoke <id> | rotate | generate | local',
  flags: {
    name: { type: 'string' },
    connection: { type: 'string', short: 'c', multiple: true },
    all: { type: 'boolean' },
    allow: { type: 'string' },
    paths: { type: 'string' },
    methods: { type: 'string' },
    ...JSON_FLAG,
  },
  help: {
    name: 'A name for the new API key (default "cli")',
    allow: `With create or narrow: what the key may do, comma-separated (${KEY_PERMISSIONS.join(', ')}; create's default: token)`,
    paths:
      'With create and --allow proxy: the Webex API path prefixes it may call, comma-separated (e.g. rooms,messages)',
    methods: 'With create and --allow proxy: the HTTP methods it may use, comma-separated (e.g. GET,POST)',
    connection:
      "A connection the key may read (repeatable, all of one owner; default: the local operator's only or most recent)",
    all: 'With create: the key may read every connection of the local operator stored now',
    ...JSON_HELP,
  },
  positionals: true,
  completions: SUBCOMMANDS,
  details: [
    'create    make a broker API key (wak_…), shown once; it belongs to the owner of its connections',
    'list      list API keys and their permissions (never the keys themselves); marks legacy keys',
    "narrow    replace a key's permissions (e.g. a legacy key's: `keys narrow <id> --allow token`)",
    'revoke    revoke an API key by id',
    'rotate    re-encrypt every stored secret under the first key of WEBEX_AUTH_KEYS',
    'generate  print a new key ring entry; prepend it to WEBEX_AUTH_KEYS, then run `keys rotate`',
    'local     print the development key (OS keychain or key file) as a WEBEX_AUTH_KEYS entry, to move the store',
  ].join('\n'),
  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    const out = createOutput(io, args.values);
    assertSubcommand('keys', sub, SUBCOMMANDS);
    const expected = sub === 'revoke' || sub === 'narrow' ? 1 : 0;
    if (rest.length !== expected) {
      throw new CliError(
        `keys ${sub} takes ${expected ? 'one id' : 'no argument'}`,
        EXIT.usage,
        'Run `webex-auth keys --help`.',
      );
    }
    // What a key may do is checked before the store is opened: a bad value is a usage error of one line.
    const given = (['allow', 'paths', 'methods'] as const).filter((f) => args.values[f] !== undefined);
    const misplaced = given.find((f) => !(sub === 'create' || (sub === 'narrow' && f === 'allow')));
    if (misplaced) {
      throw new CliError(
        `--${misplaced} goes with keys create${misplaced === 'allow' ? ' or keys narrow' : ''}`,
        EXIT.usage,
      );
    }
    if (sub === 'narrow' && args.values.allow === undefined) {
      throw new CliError('keys narrow needs --allow <permissions> (e.g. --allow token)', EXIT.usage);
    }
    const permissions = args.values.allow === undefined ? undefined : allowed(args.values.allow);
    const paths =
      args.values.paths === undefined
        ? undefined
        : checked('paths', args.values.paths, validKeyPaths, 'path prefixes such as rooms,messages');
    const methods =
      args.values.methods === undefined
        ? undefined
        : checked(
            'methods',
            String(args.values.methods).toUpperCase(),
            validKeyMethods,
            'GET, POST, PUT, PATCH, DELETE',
          );
    if ((paths || methods) && !permissions?.includes('proxy')) {
      throw new CliError('--paths and --methods limit the proxy permission: add proxy to --allow', EXIT.usage);
    }
    if (sub === 'generate') {
      const { generateKeyEntry } = await import('../../vault/crypto/keyring.js');
      const entry = generateKeyEntry();
      out.data({ entry }, () => `${entry}\n`);
      out.info(
        'Prepend it to WEBEX_AUTH_KEYS (the first key encrypts), keep the old keys, then run `webex-auth keys rotate`.',
      );
      return EXIT.ok;
    }
    const config = await loadCliConfig(io);
    if (sub === 'local') {
      if (config.keys) {
        throw new CliError(
          'the key ring comes from WEBEX_AUTH_KEYS, so this store has no development key',
          EXIT.usage,
          'Unset WEBEX_AUTH_KEYS to print the key a development store was made with.',
        );
      }
      const { readDevelopmentKey } = await import('../../vault/crypto/dev-key.js');
      const found = await readDevelopmentKey(config);
      if (!found) {
        throw new CliError(
          'this store has no development key file',
          EXIT.failure,
          'A new store gets one the first time it is opened; if this one already holds secrets, `webex-auth doctor` says what to do.',
        );
      }
      out.data({ entry: found.entry, source: found.source }, () => `${found.entry}\n`);
      out.info(
        'This is a secret. Set it as WEBEX_AUTH_KEYS where the store moves to; add a new key later with `keys generate`.',
      );
      return EXIT.ok;
    }
    return withVault(config, async (vault) => {
      if (sub === 'list') {
        const keys = await vault.apiKeys.list();
        const owners = await ownerEmails(
          vault,
          keys.map((k) => k.ownerId),
        );
        const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
        out.data(
          keys.map((k) => ({
            ...k,
            paths: k.paths ?? null,
            methods: k.methods ?? null,
            owner: ownerJson(k.ownerId, owners),
            createdAt: iso(k.createdAt),
            lastUsedAt: iso(k.lastUsedAt),
          })),
          () =>
            keys.length === 0
              ? ''
              : table(
                  [
                    ['ID', 'NAME', 'PREFIX', 'PERMISSIONS', 'CONNECTIONS', 'LAST USED', 'OWNER'].map((h) =>
                      out.out.bold(h),
                    ),
                    ...keys.map((k) => [
                      k.id,
                      k.name,
                      `${k.prefix}…`,
                      permissionsText(k),
                      String(k.connectionIds.length),
                      iso(k.lastUsedAt) ?? 'never',
                      ownerText(k.ownerId, owners),
                    ]),
                  ],
                  (s) => stripAnsi(s).length,
                ),
        );
        if (keys.length === 0) out.info('No API keys. Create one with `webex-auth keys create`.');
        for (const k of keys.filter((k) => k.legacy)) {
          out.info(
            `${k.id} legacy: ${k.permissions.join(',')} — narrow with \`webex-auth keys narrow ${k.id} --allow token\``,
          );
        }
        return EXIT.ok;
      }
      if (sub === 'revoke' || sub === 'narrow') {
        const id = rest[0] as string;
        const key = (await vault.apiKeys.list()).find((k) => k.id === id);
        const unknown = () =>
          new CliError(
            `no API key with id "${stripAnsi(id).slice(0, 60)}"`,
            EXIT.failure,
            'Run `webex-auth keys list`.',
          );
        if (!key) throw unknown();
        if (sub === 'revoke') {
          if (!(await vault.apiKeys.revoke(id))) throw unknown();
          await audit(vault, out, 'key.revoke', key);
          out.success(`Revoked API key ${id}`);
          out.data({ revoked: id }, () => '');
          return EXIT.ok;
        }
        const now = permissions as KeyPermission[];
        if (!(await vault.apiKeys.narrow(id, now))) throw unknown();
        await audit(vault, out, 'key.narrow', key, `${now.join(',')} (was ${permissionsText(key)})`);
        out.success(`API key ${id} may now: ${now.join(', ')}`);
        out.data({ id, permissions: now, legacy: false }, () => '');
        return EXIT.ok;
      }
      if (sub === 'create') {
        const wanted = (args.values.connection as string[] | undefined) ?? [];
        let connections: Connection[];
        if (args.values.all === true) {
          connections = localConnections(await vault.connections.list());
          if (connections.length === 0) {
            throw new CliError(
              'the local operator has no connection',
              EXIT.authNeeded,
              'Run `webex-auth login`, or name connections with --connection (see `webex-auth list`).',
            );
          }
        } else if (wanted.length === 0) connections = [await resolveConnection(vault, undefined)];
        else connections = await Promise.all(wanted.map((w) => resolveConnection(vault, w)));
        // A key reads the connections of one owner (the broker answers its owner's requests): it belongs to them.
        const ownerIds = [...new Set(connections.map((c) => c.ownerId))];
        if (ownerIds.length > 1) {
          const owners = await ownerEmails(vault, ownerIds);
          throw new CliError(
            `these connections belong to different owners (${ownerIds.map((o) => ownerText(o, owners)).join(', ')}); an API key reads the connections of one owner`,
            EXIT.usage,
          );
        }
        const name = (args.values.name as string | undefined) ?? 'cli';
        const { key, record } = await vault.apiKeys.create({
          name,
          connectionIds: [...new Set(connections.map((c) => c.id))],
          ownerId: ownerIds[0] as string,
          ...(permissions ? { permissions } : {}),
          ...(paths ? { paths } : {}),
          ...(methods ? { methods } : {}),
        });
        await audit(vault, out, 'key.create', record, record.permissions.join(','));
        out.data(
          {
            key,
            id: record.id,
            name: record.name,
            ownerId: record.ownerId,
            connectionIds: record.connectionIds,
            permissions: record.permissions,
            paths: record.paths ?? null,
            methods: record.methods ?? null,
          },
          () => `${key}\n`,
        );
        const owner =
          record.ownerId === LOCAL_OPERATOR
            ? ''
            : ` (owner ${ownerText(record.ownerId, await ownerEmails(vault, [record.ownerId]))})`;
        out.success(
          `Created API key ${record.id} for ${record.connectionIds.length} connection(s)${owner}, allowed: ${record.permissions.join(', ')}; it is shown only once.`,
        );
        return EXIT.ok;
      }
      // rotate
      const bar = startProgress(io.stderr, 'secrets re-encrypted', io.isTTY);
      const result = await vault.rotateKeys((p) => bar.update(p.done, p.total));
      bar.stop();
      out.success(`Re-encrypted ${result.done} of ${result.total} secrets under the first key of the key ring`);
      out.data(result, () => '');
      return EXIT.ok;
    });
  },
};

export default command;
