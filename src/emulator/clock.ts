/** The emulator clock: real time plus an offset that the control API moves forward (time travel for expiry tests). */

/** A clock whose `now()` is real time shifted by `offsetMs`. */
export class Clock {
  /** Milliseconds added to real time. */
  offsetMs: number;

  /** @param offsetSeconds initial offset (`--clock-offset`). */
  constructor(offsetSeconds = 0) {
    this.offsetMs = offsetSeconds * 1000;
  }

  /** Emulator time in epoch milliseconds. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Emulator time in whole epoch seconds (JWT claims). */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Moves the clock forward (or back, with a negative value). */
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}
