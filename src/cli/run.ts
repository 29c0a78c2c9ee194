/**
 * Dispatch: `webex-auth <command> [flags]`. Parses flags strictly (an unknown flag is a usage error, exit 2),
 * prints help and version, and turns every error into one line plus a "what to do" line — never a stack trace.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import type { Command } from './command.js';
import { COMMANDS } from './commands.js';
import { CliError, type CommandIO, EXIT } from './io.js';
import { VERSION } from './version.js';

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Get a Webex integration token pair and keep it alive.',
    '',
    'Usage: webex-auth <command> [flags]',
    '',
    'Commands:',
    ...lines,
    '',
    'Flags:',
    '  -h, --help     Show help for a command',
    '  -v, --version  Show the version',
    '',
    "Run `webex-auth <command> --help` for a command's flags.",
    '',
  ].join('\n');
}

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

function fail(io: CommandIO, message: string, hint: string | undefined, code: number): number {
  io.stderr.write(`error: ${message}\n`);
  if (hint) io.stderr.write(`${hint}\n`);
  return code;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const target = name === 'help' ? rest[0] : undefined;
    if (target && COMMANDS[target]) {
      io.stdout.write(commandHelp((await COMMANDS[target].load()).default));
      return EXIT.ok;
    }
    io.stdout.write(mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '-v' || name === '--version' || name === 'version') {
    io.stdout.write(`webex-auth ${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) return fail(io, `unknown command "${name}"`, 'Run `webex-auth --help` to see the commands.', EXIT.usage);
  const command = (await entry.load()).default;
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
    if (error instanceof CliError) return fail(io, error.message, error.hint, error.exitCode);
    if (error instanceof ConfigError) {
      return fail(io, error.message, 'Fix the setting in the environment, .env or the matching flag.', EXIT.usage);
    }
    const message = error instanceof Error ? error.message : String(error);
    return fail(io, message, 'If this keeps happening, run `webex-auth doctor`.', EXIT.failure);
  }
}
