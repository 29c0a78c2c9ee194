/**
 * `webex-auth keys create|list|revoke|rotate|generate|local`: broker API keys (shown once, stored as a hash) and the
 * encryption key ring (re-encrypt everything under the first key, with a progress bar; generate a new key entry;
 * print the development key, to carry a store to where `WEBEX_AUTH_KEYS` is set).
 */
import type { Command } from '../command.js';
import { loadCliConfig, resolveConnection, withVault } from '../context.js';
import { CliError, EXIT } from '../io.js';
import { stripAnsi, table } from '../ui/format.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { startProgress } from '../ui/progress.js';

const SUBCOMMANDS = ['create', 'list', 'revoke', 'rotate', 'generate', 'local'];

const command: Command = {
  summary: 'Manage broker API keys and rotate the encryption key',
  usage: 'keys create [--name <name>] [--connection <id|email>]… | list | revoke <id> | rotate | generate | local',
  flags: {
    name: { type: 'string' },
    connection: { type: 'string', short: 'c', multiple: true },
    all: { type: 'boolean' },
    ...JSON_FLAG,
  },
  help: {
    name: 'A name for the new API key (default "cli")',
    connection: 'A connection the key may read (repeatable; default: the only or most recent)',
    all: 'With create: the key may read every connection stored now',
    ...JSON_HELP,
  },
  positionals: true,
  completions: SUBCOMMANDS,
  details: [
    'create    make a broker API key (wak_…), shown once',
    'list      list API keys (never the keys themselves)',
    'revoke    revoke an API key by id',
    'rotate    re-encrypt every stored secret under the first key of WEBEX_AUTH_KEYS',
    'generate  print a new key ring entry; prepend it to WEBEX_AUTH_KEYS, then run `keys rotate`',
    'local     print the development key (OS keychain or key file) as a WEBEX_AUTH_KEYS entry, to move the store',
  ].join('\n'),
  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    const out = createOutput(io, args.values);
    if (!sub || !SUBCOMMANDS.includes(sub)) {
      throw new CliError(
        sub ? `unknown keys subcommand "${sub.slice(0, 20)}"` : 'which keys subcommand?',
        EXIT.usage,
        `Use one of: ${SUBCOMMANDS.join(', ')}.`,
      );
    }
    const expected = sub === 'revoke' ? 1 : 0;
    if (rest.length !== expected) {
      throw new CliError(
        `keys ${sub} takes ${expected ? 'one id' : 'no argument'}`,
        EXIT.usage,
        'Run `webex-auth keys --help`.',
      );
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
        const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
        out.data(
          keys.map((k) => ({ ...k, createdAt: iso(k.createdAt), lastUsedAt: iso(k.lastUsedAt) })),
          () =>
            keys.length === 0
              ? ''
              : table(
                  [
                    ['ID', 'NAME', 'PREFIX', 'CONNECTIONS', 'LAST USED'].map((h) => out.out.bold(h)),
                    ...keys.map((k) => [
                      k.id,
                      k.name,
                      `${k.prefix}…`,
                      String(k.connectionIds.length),
                      iso(k.lastUsedAt) ?? 'never',
                    ]),
                  ],
                  (s) => stripAnsi(s).length,
                ),
        );
        if (keys.length === 0) out.info('No API keys. Create one with `webex-auth keys create`.');
        return EXIT.ok;
      }
      if (sub === 'revoke') {
        const id = rest[0] as string;
        if (!(await vault.apiKeys.revoke(id))) {
          throw new CliError(`no API key with id "${id.slice(0, 60)}"`, EXIT.failure, 'Run `webex-auth keys list`.');
        }
        out.success(`Revoked API key ${id}`);
        out.data({ revoked: id }, () => '');
        return EXIT.ok;
      }
      if (sub === 'create') {
        const wanted = (args.values.connection as string[] | undefined) ?? [];
        let connectionIds: string[];
        if (args.values.all === true) connectionIds = (await vault.connections.list()).map((c) => c.id);
        else if (wanted.length === 0) connectionIds = [(await resolveConnection(vault, undefined)).id];
        else connectionIds = await Promise.all(wanted.map(async (w) => (await resolveConnection(vault, w)).id));
        const name = (args.values.name as string | undefined) ?? 'cli';
        const { key, record } = await vault.apiKeys.create({ name, connectionIds: [...new Set(connectionIds)] });
        out.data({ key, id: record.id, name: record.name, connectionIds: record.connectionIds }, () => `${key}\n`);
        out.success(
          `Created API key ${record.id} for ${record.connectionIds.length} connection(s); it is shown only once.`,
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
