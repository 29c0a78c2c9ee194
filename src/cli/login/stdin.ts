/**
 * What `login` reads on stdin: whether a pasted line is an answer of Webex's authorization at all, the one error when
 * none was read, and letting go of stdin once the login is over (an open pipe must not keep the process alive).
 */
import type { Readable } from 'node:stream';
import { CliError, EXIT } from '../io.js';

/**
 * Whether `line` carries an authorization answer: a URL, path or query string with a `code`, `state` or `error`
 * parameter (in the query or the fragment). Anything else — a secret piped by mistake, a word — is no answer.
 */
export function isRedirectAnswer(line: string): boolean {
  return /(?:^|[?&#])(?:code|state|error)=/.test(line.trim());
}

/** The one error when no redirect URL was read: stdin ended, or gave a line that is no redirect (never echoed). */
export function noRedirectRead(): CliError {
  return new CliError(
    'no redirect URL was read from standard input; nothing was saved',
    EXIT.usage,
    'Run `webex-auth login --no-browser` again and paste the full URL the browser was redirected to.',
  );
}

/**
 * Stops reading `input` for good: paused, and its handle unreferenced when it has one (process.stdin on a pipe or a
 * terminal), so that a pipe the caller keeps open does not keep the process alive once the login is over.
 */
export function releaseInput(input: Readable): void {
  input.pause();
  (input as Readable & { unref?: () => void }).unref?.();
}
