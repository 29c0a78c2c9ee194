/**
 * Reading a secret for `bot add` and `service-app add`: from stdin (piped) or a prompt on a terminal with no echo,
 * never from argv (argv shows in `ps` to every user of the machine).
 */
import { isWebexAuthError } from '../../errors.js';
import type { CommandIO } from '../io.js';
import { CliError, EXIT } from '../io.js';
import { releaseInput } from '../login/stdin.js';
import { readSecret } from '../ui/prompt.js';

/** One secret line: prompted for with `prompt` on a terminal, else the first line of stdin. */
export async function readSecretInput(io: CommandIO, prompt: string, what: string): Promise<string> {
  if (io.isTTY) io.stderr.write(`${prompt}: `);
  const line = await readSecret(io.stdin);
  if (io.isTTY) io.stderr.write('\n');
  releaseInput(io.stdin);
  const value = line?.trim() ?? '';
  if (!value) {
    throw new CliError(
      `no ${what} given`,
      EXIT.usage,
      `Pipe it on stdin (e.g. \`… < file\`) or type it at the prompt.`,
    );
  }
  return value;
}

/**
 * The usage error of `<command> add` given anything but `add` alone. What was typed is never echoed: a pasted token
 * or secret (the very thing argv must not hold) would otherwise land on the screen and in a CI log.
 */
export function onlyAdd(command: string, sub: string | undefined, secret: string): CliError {
  const message =
    sub === 'add'
      ? `${command} add takes no argument: the ${secret} is read from stdin or the prompt, never from argv`
      : sub
        ? `unknown ${command} subcommand (the only one is add)`
        : `which ${command} subcommand?`;
  return new CliError(message, EXIT.usage, `Use \`webex-auth ${command} add\` and give the ${secret} on stdin.`);
}

/** A vault refusal as a one-line CLI error. */
export function identityError(err: unknown): never {
  if (isWebexAuthError(err, { family: 'vault' })) {
    const code = err.code === 'invalid_request' || err.code === 'not_found' ? EXIT.usage : EXIT.failure;
    throw new CliError(err.message, code);
  }
  throw err;
}
