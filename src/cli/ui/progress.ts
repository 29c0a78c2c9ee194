/** A progress bar on stderr for work with a known size (key rotation); drawn only on a terminal. */
import type { TextOut } from '../io.js';

/** A progress bar. */
export interface ProgressBar {
  /** Reports `done` of `total` items. */
  update(done: number, total: number): void;
  /** Ends the bar with a final line. */
  stop(final?: string): void;
}

/** Renders the bar text, e.g. `[██████░░░░░░] 3/6 label`. */
export function renderBar(done: number, total: number, label: string, width = 24): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total} ${label}`;
}

/** Starts a progress bar labelled `label`; on a non-terminal it prints nothing until `stop`. */
export function startProgress(stream: TextOut, label: string, tty: boolean): ProgressBar {
  return {
    update(done, total) {
      if (tty) stream.write(`\r\u001b[2K${renderBar(done, total, label)}`);
    },
    stop(final) {
      if (tty) stream.write('\r\u001b[2K');
      if (final) stream.write(`${final}\n`);
    },
  };
}
