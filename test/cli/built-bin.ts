/** The built bin (dist/cli/webex-auth.cjs, as package.json installs it) run as a real child process. */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
/** The installed bin (package.json "bin"): `token` goes to its own CommonJS bundle, everything else to dist/cli/main.js. */
export const BIN = join(ROOT, 'dist', 'cli', 'webex-auth.cjs');

/** Runs `npm run build` when the bin is missing (a fresh checkout); throws with its output when the build fails. */
export function ensureBuiltBin(): void {
  if (existsSync(BIN)) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
}

/** How a bin run ended, and everything it printed. */
export interface BinExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns the bin with exactly `env`, in its HOME; `onStderr` sees the whole stderr so far after each chunk. */
export function spawnBin(
  args: string[],
  env: Record<string, string | undefined>,
  onStderr?: (text: string, child: ChildProcessWithoutNullStreams) => void,
): { child: ChildProcessWithoutNullStreams; exited: Promise<BinExit> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: env as NodeJS.ProcessEnv, cwd: env.HOME });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c) => {
    stderr += c;
    onStderr?.(stderr, child);
  });
  const exited = new Promise<BinExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited };
}
