/**
 * The one way commands print: data to stdout (JSON with `--json`, else text), messages to stderr, colour only when
 * the stream is a terminal and `NO_COLOR` is unset, tokens masked unless `--show-tokens`.
 */
import type { CommandIO } from '../io.js';
import { maskToken } from './format.js';

/** ANSI styles; each is the identity when colour is off. */
export interface Styles {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

const CODES: Record<keyof Styles, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  green: [32, 39],
  yellow: [33, 39],
  red: [31, 39],
  cyan: [36, 39],
};

/** Styles that colour when `on`, else leave the text alone. */
export function styles(on: boolean): Styles {
  const entries = Object.entries(CODES).map(([name, [open, close]]) => [
    name,
    on ? (s: string) => `\u001b[${open}m${s}\u001b[${close}m` : (s: string) => s,
  ]);
  return Object.fromEntries(entries) as unknown as Styles;
}

/** Whether `NO_COLOR` asks for no colour (any non-empty value, per no-color.org). */
export function noColor(env: CommandIO['env']): boolean {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '';
}

/** The printer a command uses. */
export interface Output {
  /** `--json` was given: data is printed as JSON. */
  readonly json: boolean;
  /** `--show-tokens` was given. */
  readonly showTokens: boolean;
  /** Styles for stdout. */
  readonly out: Styles;
  /** Styles for stderr. */
  readonly err: Styles;
  /** Prints data: `value` as JSON with `--json`, else the text `human()` returns. */
  data(value: unknown, human: () => string): void;
  /** Writes text to stdout as is. */
  raw(text: string): void;
  /** A message line on stderr. */
  info(line: string): void;
  /** A success line on stderr (`✓ …`). */
  success(line: string): void;
  /** A warning line on stderr (`! …`). */
  warn(line: string): void;
  /** A token for display: in clear with `--show-tokens`, else masked. */
  token(value: string): string;
}

/** Creates the printer for `io` and the parsed flags `json` / `show-tokens`. */
export function createOutput(io: CommandIO, flags: { json?: unknown; 'show-tokens'?: unknown } = {}): Output {
  const json = flags.json === true;
  const showTokens = flags['show-tokens'] === true;
  const out = styles(io.stdoutIsTTY && !noColor(io.env));
  const err = styles(io.isTTY && !noColor(io.env));
  return {
    json,
    showTokens,
    out,
    err,
    data(value, human) {
      io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : human());
    },
    raw(text) {
      io.stdout.write(text);
    },
    info(line) {
      io.stderr.write(`${line}\n`);
    },
    success(line) {
      io.stderr.write(`${err.green('✓')} ${line}\n`);
    },
    warn(line) {
      io.stderr.write(`${err.yellow('!')} ${line}\n`);
    },
    token(value) {
      return showTokens ? value : maskToken(value);
    },
  };
}

/** The flags every data command takes, to spread into its flag table. */
export const JSON_FLAG = { json: { type: 'boolean' } } as const;
/** Help of {@link JSON_FLAG}. */
export const JSON_HELP = { json: 'Print the data as JSON on stdout' } as const;
