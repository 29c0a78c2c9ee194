/** The real process's IO for a command: what the bin hands runCli, and the `token` fast path its command. */
import type { CommandIO } from './io.js';

/** Opens a URL with the platform's opener; rejects when there is none. */
async function openBrowser(url: string): Promise<void> {
  // Loaded on use: node:child_process costs every command ~1.5 ms at start-up, and only `login` opens a browser.
  const { spawn } = await import('node:child_process');
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}

let interrupted: Promise<void> | undefined;
/** Signal handlers are installed only when a command asks, so that commands that don't wait keep Node's defaults. */
function onInterrupt(): Promise<void> {
  interrupted ??= new Promise<void>((resolve) => {
    const handler = () => {
      resolve();
      // A second Ctrl-C means "now".
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
  return interrupted;
}

/** The process's IO. stdin is made only when a command reads it or asks whether it is a terminal (~8 M instructions). */
export function processIO(): CommandIO {
  return {
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    get isTTY() {
      return Boolean(process.stdin.isTTY && process.stderr.isTTY);
    },
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    openBrowser,
    get interrupted() {
      return onInterrupt();
    },
  };
}
