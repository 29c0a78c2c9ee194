/**
 * Running one command: its help, strict flag parsing (an unknown flag is a usage error, exit 2), and every error
 * turned into one line plus a "what to do" line — never a stack trace. Shared by the dispatcher (run.ts) and the bin's
 * fast path for `webex-auth token` (token-main.ts), so it imports neither the command table nor any command.
 */
import { parseArgs } from 'node:util';
import { isWebexAuthError } from '../errors.js';
import type { Command } from './command.js';
import type { CliError, CommandIO } from './io.js';
import { EXIT } from './io.js';

/** Renders a command's help text. */
export function commandHelp(command: Command): string {
  const flagLines = Object.entries(command.flags).map(([flag, def]) => {
    const short = def.short ? `-${def.short}, ` : '    ';
    const arg = def.type === 'string' ? ` <${flag.replace(/^.*-/, '')}>` : '';
    return [`  ${short}--${flag}${arg}`, command.help[flag] ?? ''] as const;
  });
  flagLines.push(['  -h, --help', 'Show this help']);
  const width = Math.max(...flagLines.map(([l]) => l.length));
  return [
    command.summary,
    '',
    `Usage: webex-auth ${command.usage}`,
    '',
    'Flags:',
    ...flagLines.map(([l, h]) => `${l.padEnd(width)}  ${h}`),
    ...(command.details ? ['', command.details] : []),
    '',
  ].join('\n');
}

/** Prints `error: <message>` and the hint to stderr; returns `code`. */
export function fail(io: CommandIO, message: string, hint: string | undefined, code: number): number {
  io.stderr.write(`error: ${message}\n`);
  if (hint) io.stderr.write(`${hint}\n`);
  return code;
}

/** Runs `command` (called `name`) with its arguments `rest`; returns the exit code. */
export async function runCommand(name: string, command: Command, rest: string[], io: CommandIO): Promise<number> {
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: command.flags,
      strict: true,
      allowPositionals: command.positionals ?? false,
    });
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? 'bad arguments') : 'bad arguments';
    return fail(io, message.replace(/\.$/, ''), `Run \`webex-auth ${name} --help\` for usage.`, EXIT.usage);
  }
  try {
    return await command.run(parsed as never, io);
  } catch (error) {
    const { message, hint, code } = await describeError(error);
    return fail(io, message, hint, code);
  }
}

/**
 * Turns any error into one line, a "what to do" line and an exit code. Every webex-auth error (the CLI's, the
 * configuration's, the vault's, the OAuth and REST clients') is recognised by its brand's family and its code
 * (errors.ts), never by class or name, so that this module imports neither the configuration, the vault nor the
 * clients (`--help` and `token` stay fast), and errors from another copy of a class (the `token` fast path is bundled
 * on its own, its OAuth client in a lazily loaded part) are recognised too.
 */
async function describeError(error: unknown): Promise<{ message: string; hint: string | undefined; code: number }> {
  if (isWebexAuthError(error, { family: 'cli', code: 'cli_failed' })) {
    const { hint, exitCode } = error as unknown as CliError;
    return { message: error.message, hint, code: exitCode };
  }
  const message = oneLine(error instanceof Error ? error.message : String(error));
  if (isWebexAuthError(error, { family: 'config' })) {
    return { message, hint: 'Fix the setting in the environment, .env or the matching flag.', code: EXIT.usage };
  }
  if (isWebexAuthError(error, { family: 'vault', code: 'vault_key' })) {
    return {
      message,
      hint: 'Set WEBEX_AUTH_KEYS to the key ring the store was written with (see `webex-auth doctor`).',
      code: EXIT.failure,
    };
  }
  // The vault's other errors (a VaultError, a TokenCapError, which is one, or an identity call's).
  if (isWebexAuthError(error, { family: 'vault' })) {
    const retryAfter = (error as { retryAfter?: number }).retryAfter;
    if (error.code === 'needs_reauth')
      return { message, hint: 'Run `webex-auth login` to authorize again.', code: EXIT.authNeeded };
    if (error.code === 'not_found')
      return { message, hint: 'Run `webex-auth list` to see the connections.', code: EXIT.failure };
    if (error.code === 'upstream_unavailable') {
      const wait = retryAfter ? `Wait ${retryAfter} s and try again` : 'Try again in a moment';
      return { message, hint: `${wait}; the connection is kept.`, code: EXIT.failure };
    }
    return { message, hint: undefined, code: EXIT.failure };
  }
  // The OAuth client's and the REST client's errors (whatever their code): explained in Webex's terms.
  if (isWebexAuthError(error)) {
    const { explainOAuthError } = await import('../oauth/explain.js');
    const e = explainOAuthError(error);
    const needsReauth = (error as { needsReauth?: boolean }).needsReauth === true;
    const badScopes = isWebexAuthError(error, { family: 'authorization', code: 'invalid_scope_request' });
    const code = badScopes ? EXIT.usage : needsReauth ? EXIT.authNeeded : EXIT.failure;
    return { message: `${e.title}: ${e.explanation}`, hint: e.action, code };
  }
  return { message, hint: 'If this keeps happening, run `webex-auth doctor`.', code: EXIT.failure };
}

/** The first line of a message, without a trailing period. */
function oneLine(message: string): string {
  return (message.split('\n')[0] ?? '').trim() || 'unexpected error';
}
