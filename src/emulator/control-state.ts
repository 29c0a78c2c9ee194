/** Stats and fault injection state of the control API (`/_emulator/stats`, `/_emulator/faults`). */
import { randomInt } from 'node:crypto';

/** What a request is, for fault matching. */
export type FaultEndpoint = 'token' | 'authorize' | 'rest' | '*';

/** One fault rule as posted to `/_emulator/faults`. */
export interface FaultRule {
  endpoint: FaultEndpoint;
  status?: 429 | 500 | 502 | 503 | 504;
  count?: number;
  retryAfter?: number;
  delayMs?: number;
  error?: string;
  rate?: number;
}

/** Counts successful grants by type and every request by `METHOD /route STATUS`. */
export class Stats {
  grants = { authorization_code: 0, refresh_token: 0, device_code: 0 };
  requests = new Map<string, number>();

  /** Counts one request. */
  count(key: string): void {
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** The `/_emulator/stats` body. */
  toJSON(): { grants: Stats['grants']; requests: Record<string, number> } {
    return { grants: { ...this.grants }, requests: Object.fromEntries(this.requests) };
  }

  /** Zeroes everything. */
  clear(): void {
    this.grants = { authorization_code: 0, refresh_token: 0, device_code: 0 };
    this.requests.clear();
  }
}

/** Active fault rules; each applies to the next `count` matching requests, or to a `rate` share at random. */
export class Faults {
  private rules: (FaultRule & { remaining: number })[] = [];

  /** Whether any rule is active (a fast path for the hot endpoints). */
  get active(): boolean {
    return this.rules.length > 0;
  }

  /** Adds a rule. */
  add(rule: FaultRule): void {
    this.rules.push({ ...rule, remaining: rule.rate !== undefined ? Number.POSITIVE_INFINITY : (rule.count ?? 1) });
  }

  /** Removes every rule. */
  clear(): void {
    this.rules = [];
  }

  /** The rules, for `GET /_emulator/faults`. */
  list(): FaultRule[] {
    return this.rules.map(({ remaining: _r, ...rule }) => rule);
  }

  /** The rule that fires for a request to `endpoint`, if any (consuming one of its `count`). */
  take(endpoint: Exclude<FaultEndpoint, '*'>): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.endpoint !== '*' && rule.endpoint !== endpoint) continue;
      if (rule.rate !== undefined) {
        if (randomInt(1_000_000) < rule.rate * 1_000_000) return rule;
        continue;
      }
      if (rule.remaining > 0) {
        rule.remaining--;
        if (rule.remaining === 0) this.rules = this.rules.filter((r) => r !== rule);
        return rule;
      }
    }
    return undefined;
  }
}
