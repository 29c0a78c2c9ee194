/** The real process's IO for a command: what the bin hands runCli, and the `token` fast path its command. */
import { fstatSync } from 'node:fs';
import type { CommandIO, TextOut } from './io.js';
import { writeFully } from './write-fully.js';

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

/**
 * The process's IO. Nothing is made before a command uses it: stdin only when a command reads it or asks whether it is
 * a terminal (~8 M instructions), stdout and stderr at their first write. Then stdout and stderr that are pipes, files
 * or sockets — `$(webex-auth token)`, `> file`, `| jq` — are written directly and synchronously: `process.stdout`
 * loads Node's stream stack, and for a pipe a `net.Socket`, ~4 ms of a 30 ms bare start-up here; for a terminal it
 * also loads `tty` and `net` (~10 ms), which `token` would pay for the stderr it never writes to. Terminals (and
 * character devices such as /dev/null, which fstat cannot tell apart from them) get the process's own streams.
 */
export function processIO(): CommandIO {
  return {
    get stdin() {
      return process.stdin;
    },
    stdout: outputTo(1, () => process.stdout),
    stderr: outputTo(2, () => process.stderr),
    env: process.env,
    cwd: process.cwd(),
    get isTTY() {
      return Boolean(process.stdin.isTTY && process.stderr.isTTY);
    },
    get stdoutIsTTY() {
      return !isPlainFile(1) && Boolean(process.stdout.isTTY);
    },
    openBrowser,
    get interrupted() {
      return onInterrupt();
    },
  };
}

/** Text out to `fd`, chosen at the first write: the descriptor itself when it is a plain file, else `stream()`. */
function outputTo(fd: number, stream: () => TextOut): TextOut {
  let target: TextOut | undefined;
  return {
    write(text: string) {
      target ??= isPlainFile(fd) ? descriptorOut(fd) : stream();
      return target.write(text);
    },
  };
}

/** True when `fd` is a pipe, socket or regular file: never a terminal. */
function isPlainFile(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isFile() || stat.isSocket();
  } catch {
    return false;
  }
}

/**
 * Writes text to `fd` synchronously and whole: a non-blocking pipe that is full is retried; a reader that has gone
 * away (EPIPE, `webex-auth status | head -1`) ends the output quietly, as it would for a stream.
 */
function descriptorOut(fd: number): TextOut {
  let closed = false;
  return {
    write(text: string) {
      if (!closed) closed = !writeFully(fd, text);
      return true;
    },
  };
}
