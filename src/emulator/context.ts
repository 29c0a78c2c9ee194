/** What every route of one emulator instance shares. */
import type { Clock } from './clock.js';
import type { Faults, Stats } from './control-state.js';
import type { KeySet } from './keys.js';
import type { ResolvedOptions } from './options.js';
import type { EmulatorState } from './state.js';
import type { Tokens } from './tokens.js';

/** The per-instance context handed to each route plugin (no module-level singletons). */
export interface EmulatorContext {
  options: ResolvedOptions;
  clock: Clock;
  state: EmulatorState;
  tokens: Tokens;
  keys: KeySet;
  stats: Stats;
  faults: Faults;
}

/** Which fault class a route belongs to (`/_emulator/faults` `endpoint`). */
export type FaultClass = 'token' | 'authorize' | 'rest';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Fault class of the route; routes without one never get injected faults. */
    fault?: FaultClass;
  }
  interface FastifyRequest {
    /** An `error` forced by a fault rule, for routes that answer it themselves (authorize). */
    forcedError?: string;
  }
}
