/**
 * A spinner for long waits, drawn on stderr only when it is a terminal; elsewhere the message is printed once as a
 * plain line so logs stay readable.
 */
import type { TextOut } from '../io.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A running spinner. */
export interface Spinner {
  /** Changes the text next to the spinner. */
  update(text: string): void;
  /** Stops and clears the spinner line; prints `final` if given. */
  stop(final?: string): void;
}

/** Starts a spinner with `text` on `stream`; animated only when `tty` is true. */
export function startSpinner(stream: TextOut, text: string, tty: boolean): Spinner {
  let current = text;
  if (!tty) {
    stream.write(`${text}\n`);
    return {
      update(next) {
        if (next !== current) stream.write(`${next}\n`);
        current = next;
      },
      stop(final) {
        if (final) stream.write(`${final}\n`);
      },
    };
  }
  let frame = 0;
  const draw = () => stream.write(`\r\u001b[2K${FRAMES[frame++ % FRAMES.length]} ${current}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    update(next) {
      current = next;
      draw();
    },
    stop(final) {
      clearInterval(timer);
      stream.write('\r\u001b[2K');
      if (final) stream.write(`${final}\n`);
    },
  };
}
