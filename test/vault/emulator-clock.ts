/**
 * A suite's emulator on a moved clock: the emulator started once for a describe block, and the vaults' clock running
 * with the emulator's (both advance together), put back after every test.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { control } from './emulator-grant.js';

/** Where the suite's emulator listens; read it inside tests and hooks (it is started in `beforeAll`). */
export interface EmulatorAddress {
  /** Its origin (`/_emulator/...` control routes). */
  readonly url: string;
  /** Its Webex API base (`.../v1`). */
  readonly apiBase: string;
}

/** What {@link useEmulatorOnClock} gives a suite. */
export interface EmulatorOnClock {
  emulator: EmulatorAddress;
  /** Now on the vaults' clock: the real time plus every `advance` and `shift` of this test. */
  clock: () => number;
  /** Moves the vaults' clock and the emulator's by `seconds`. */
  advance: (seconds: number) => Promise<void>;
  /** Moves only the vaults' clock by `ms` (the emulator keeps its time). */
  shift: (ms: number) => void;
  /** How far the vaults' clock is ahead of the real time now, in ms. */
  offsetMs: () => number;
  /** Run after each test, newest first (vaults to close, temp dirs to remove). */
  closers: Array<() => Promise<unknown> | unknown>;
}

/**
 * In the current describe block: starts the emulator with `options` before all tests and closes it after them; after
 * each test runs the registered closers (newest first), resets the emulator (its clock and state) and clears its
 * faults, and puts the vaults' clock back to the real time.
 */
export function useEmulatorOnClock(options: Parameters<typeof startEmulator>[0]): EmulatorOnClock {
  let running: RunningEmulator | undefined;
  const started = (): RunningEmulator => {
    if (!running) throw new Error('the emulator is not started yet: read it inside a test or hook');
    return running;
  };
  const emulator: EmulatorAddress = {
    get url() {
      return started().url;
    },
    get apiBase() {
      return started().apiBase;
    },
  };
  let offset = 0;
  const closers: EmulatorOnClock['closers'] = [];

  beforeAll(async () => {
    running = await startEmulator(options);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await control(emulator.url, 'reset', {});
    await fetch(`${emulator.url}/_emulator/faults`, { method: 'DELETE' });
    offset = 0;
  });
  afterAll(async () => {
    await running?.close();
  });

  return {
    emulator,
    clock: () => Date.now() + offset,
    advance: async (seconds) => {
      offset += seconds * 1000;
      await control(emulator.url, 'clock', { advanceSeconds: seconds });
    },
    shift: (ms) => {
      offset += ms;
    },
    offsetMs: () => offset,
    closers,
  };
}
