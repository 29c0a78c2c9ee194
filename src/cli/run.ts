/**
 * Dispatch: `webex-auth <command> [flags]`: prints help and version, finds the command and runs it (run-command.ts:
 * strict flags, one-line errors). The bin sends `webex-auth token` straight to token-main.ts instead.
 */
import { COMMANDS } from './commands.js';
import type { CommandIO } from './io.js';
import { EXIT } from './io.js';
import { commandHelp, fail, runCommand } from './run-command.js';

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
    // Loaded here only: reading package.json is no business of the other commands' start-up.
    const { VERSION } = await import('./version.js');
    io.stdout.write(`webex-auth ${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) return fail(io, `unknown command "${name}"`, 'Run `webex-auth --help` to see the commands.', EXIT.usage);
  const command = (await entry.load()).default;
  return runCommand(name, command, rest, io);
}
