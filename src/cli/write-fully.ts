/**
 * Writing a command's output synchronously and whole: the bin's hot-token path (hot-token.ts, bundled into the bin's
 * CommonJS helper) and every command's stdout/stderr (process-io.ts) share it. Node built-ins only.
 */
import { writeSync } from 'node:fs';

/**
 * Writes `text` to `fd` whole: a non-blocking pipe that is full is retried after 1 ms; a reader that has gone away
 * (EPIPE, or EOF as Windows reports it: `webex-auth status | head -1`) ends the write quietly. False once the reader
 * has gone (nothing more should be written), true otherwise. Any other error is thrown.
 */
export function writeFully(fd: number, text: string): boolean {
  let rest = Buffer.from(text, 'utf8');
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'EOF') return false;
      if (code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
  return true;
}
