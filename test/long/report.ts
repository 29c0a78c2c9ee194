/** Long-suite results: printed and appended as JSON lines to LONG_RESULTS (default /tmp/webex-auth-long-results.jsonl) for SECURITY.md. */
import { appendFileSync } from 'node:fs';

/** Records one result. */
export function report(name: string, result: unknown): void {
  const line = JSON.stringify({ name, at: new Date().toISOString(), result });
  process.stdout.write(`${line}\n`);
  appendFileSync(process.env.LONG_RESULTS ?? '/tmp/webex-auth-long-results.jsonl', `${line}\n`);
}
