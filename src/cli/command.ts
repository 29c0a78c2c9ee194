/** The shape of one CLI command: each lives in its own file under commands/ and is loaded only when run. */
import type { ParseArgsConfig } from 'node:util';
import type { CommandIO } from './io.js';

/** Flag definitions in `node:util` parseArgs form, plus a help line each. */
export type Flags = NonNullable<ParseArgsConfig['options']>;

/** Parsed arguments handed to a command. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** One command. */
export interface Command {
  /** One line for the command list. */
  summary: string;
  /** Usage line(s) after `webex-auth`, e.g. `token [--connection <id>] [--min-validity <s>]`. */
  usage: string;
  /** Flags with their help text (`help` is a flag's description). */
  flags: Flags;
  help: Record<string, string>;
  /** Extra help text printed after the flags. */
  details?: string;
  /** Whether positionals are allowed (default: none). */
  positionals?: boolean;
  /** Fixed words completed after the command name (subcommands or values), for `webex-auth completion`. */
  completions?: string[];
  /** Runs the command; resolves to the exit code. Throw CliError for failures the user can fix. */
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}

/** A command table entry: the one-line summary (for the command list without loading the module) and a loader. */
export interface CommandEntry {
  summary: string;
  load: () => Promise<{ default: Command }>;
}
