/**
 * The IO a CLI command runs with, injected so that tests run commands in-process and the bin passes the real one.
 */
import type { Readable } from 'node:stream';
import { WebexAuthError } from '../errors.js';

/** Where a command writes text: a stream, or the process's own descriptor written directly (process-io.ts). */
export interface TextOut {
  write(text: string): unknown;
}

/** Everything a command may touch outside itself. */
export interface CommandIO {
  stdin: Readable;
  stdout: TextOut;
  stderr: TextOut;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Whether stdin and stderr are terminals (interactive prompts, spinners, opening a browser). */
  isTTY: boolean;
  /** Whether stdout is a terminal (colour, masking hints). */
  stdoutIsTTY: boolean;
  /** Opens a URL in the user's browser; rejects when none can be opened. */
  openBrowser(url: string): Promise<void>;
  /** Resolves on Ctrl-C / SIGTERM; commands that wait use it to clean up. */
  interrupted?: Promise<void>;
}

/** A command's failure that the user can fix: printed as one line plus a "what to do" line, with an exit code. */
export class CliError extends WebexAuthError<'cli_failed'> {
  override name = 'CliError';
  constructor(
    message: string,
    /** Exit code: 1 failure, 2 usage, 4 authentication needed. */
    readonly exitCode: 1 | 2 | 4 = 1,
    /** One line telling the user what to do next. */
    readonly hint?: string,
  ) {
    super('cli', 'cli_failed', message);
  }
}

/** Exit codes, as `gh` uses them. */
export const EXIT = { ok: 0, failure: 1, usage: 2, authNeeded: 4 } as const;
