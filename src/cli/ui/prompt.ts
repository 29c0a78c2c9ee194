/** Reading one line from stdin (a pasted URL, a secret), cancellable by Ctrl-C or an abort signal. */
import type { Readable } from 'node:stream';

/**
 * Resolves with the next line of `input` (without the line end), or `undefined` when the input ends first.
 * Rejects with the signal's reason when it aborts. Leaves the rest of the stream unread.
 */
export function readLine(input: Readable, signal?: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const cleanup = () => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      input.pause();
    };
    const onData = (chunk: Buffer | string) => {
      buffer += chunk.toString();
      const nl = buffer.search(/\r?\n|\r/);
      if (nl >= 0) {
        const line = buffer.slice(0, nl);
        const rest = buffer.slice(nl).replace(/^(\r\n|\r|\n)/, '');
        cleanup();
        if (rest) input.unshift(Buffer.from(rest));
        resolve(line);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(buffer === '' ? undefined : buffer);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAbort = () => {
      cleanup();
      reject(signal?.reason);
    };
    if (signal?.aborted) return reject(signal.reason);
    // An input that has already ended emits no second 'end': waiting for one would never settle.
    if (input.readableEnded) return resolve(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    input.resume();
  });
}

/**
 * Reads a secret from a terminal without echoing it (raw mode: Enter ends, Backspace deletes, Ctrl-C cancels).
 * When `input` is not a terminal it falls back to {@link readLine}.
 */
export function readSecret(input: Readable, signal?: AbortSignal): Promise<string | undefined> {
  const tty = input as Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => void };
  if (!tty.isTTY || typeof tty.setRawMode !== 'function') return readLine(input, signal);
  const setRaw = tty.setRawMode.bind(tty);
  return new Promise((resolve, reject) => {
    let secret = '';
    const finish = (fn: () => void) => {
      input.off('data', onData);
      signal?.removeEventListener('abort', onAbort);
      setRaw(false);
      input.pause();
      fn();
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish(() => resolve(secret));
        if (ch === '\u0003') return finish(() => reject(new Error('cancelled')));
        if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
        else if (ch >= ' ') secret += ch;
      }
    };
    const onAbort = () => finish(() => reject(signal?.reason));
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    setRaw(true);
    input.on('data', onData);
    input.resume();
  });
}
