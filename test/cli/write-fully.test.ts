/**
 * writeFully (src/cli/write-fully.ts): the synchronous writer of every command's output and of the bin's hot-token
 * path. On a real FIFO: a full non-blocking pipe is waited on until all is written, a reader that has gone ends the
 * write quietly (false), as `webex-auth status | head -1` needs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFully } from '../../src/cli/write-fully.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new FIFO in its own temporary directory. */
function fifo(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wa-fifo-'));
  dirs.push(dir);
  const path = join(dir, 'pipe');
  execFileSync('mkfifo', [path]);
  return { dir, path };
}

describe.skipIf(process.platform === 'win32')('writeFully', () => {
  it('writes everything into a non-blocking pipe that fills up while a slower reader drains it', async () => {
    const { dir, path } = fifo();
    const out = join(dir, 'out');
    const reader = spawn('sh', ['-c', `cat "${path}" > "${out}"`]);
    const exited = new Promise((resolve) => reader.once('exit', resolve));
    // Retried until the reader has opened its end (opening a FIFO's write end without a reader fails with ENXIO).
    let fd = -1;
    while (fd < 0) {
      try {
        fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    // 1 MiB: 16 times a Linux pipe's 64 KiB buffer, so the writes meet EAGAIN many times.
    const text = `${'x'.repeat(1024 * 1024 - 1)}\n`;
    expect(writeFully(fd, text)).toBe(true);
    closeSync(fd);
    await exited;
    expect(readFileSync(out, 'utf8')).toBe(text);
  });

  it('answers false, without throwing, once the reader has gone', () => {
    const { path } = fifo();
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(readFd);
    expect(writeFully(fd, 'token\n')).toBe(false);
    closeSync(fd);
  });
});
