/**
 * Reading a secret for `bot add` and `service-app add`: from stdin (piped) or a prompt on a terminal with no echo,
 * never from argv (argv shows in `ps` to every user of the machine).
 */
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

/** A vault refusal as a one-line CLI error. */
export function identityError(err: unknown): never {
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'VaultError') {
    const code = e.code === 'invalid_request' || e.code === 'not_found' ? EXIT.usage : EXIT.failure;
    throw new CliError(String(e.message), code);
  }
  throw err;
}
