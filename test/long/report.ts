/**
 * Long-suite results: printed and appended as JSON lines to LONG_RESULTS (default `webex-auth-long-results.jsonl` in
 * the OS temp directory) for SECURITY.md.
 */
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Records one result. */
export function report(name: string, result: unknown): void {
  const line = JSON.stringify({ name, at: new Date().toISOString(), result });
  process.stdout.write(`${line}\n`);
  appendFileSync(process.env.LONG_RESULTS ?? join(tmpdir(), 'webex-auth-long-results.jsonl'), `${line}\n`);
}
