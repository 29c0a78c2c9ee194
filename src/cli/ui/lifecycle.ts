/**
 * The refresh-lifecycle part of `webex-auth status`: where the person stands against Webex's live-token cap, a failing
 * refresh's back-off, and (with `--history`) the refresh history. No secret is ever shown.
 */
import type { TokenCapStatus } from '../../vault/cap.js';
import type { RefreshRecord } from '../../vault/history.js';
import type { Connection } from '../../vault/types.js';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The cap sentence: `18 of 750 live tokens (2 %)`, with the warning or the refusal when due. */
export function capText(cap: TokenCapStatus): string {
  const webex = cap.webex ? `; Webex counts ${cap.webex.accessTokens}` : '';
  const base = `${cap.used} of ${cap.cap} live access tokens (${cap.percent} %; minted here ${cap.minted}${webex})`;
  if (cap.refusing) {
    return `${base} — forced refreshes refused at ${cap.refuseAt} %; the current token is still served and keep-alive still runs`;
  }
  return cap.warning ? `${base} — nearing Webex's cap` : base;
}

/** The extra lines after a connection's block. */
export function lifecycleLines(
  c: Connection,
  cap: TokenCapStatus | undefined,
  history: RefreshRecord[] | undefined,
  now: number,
): string {
  const lines: string[] = [];
  if (cap) lines.push(`  token cap:      ${capText(cap)}`);
  if (c.refreshFailing) {
    const next = c.nextAttemptAt !== undefined ? Math.max(0, Math.ceil((c.nextAttemptAt - now) / 1000)) : undefined;
    lines.push(
      `  refresh:        failing since ${iso(c.failingSince)} (${c.refreshFailures} in a row, last status ${c.lastErrorStatus ?? '?'})${next !== undefined ? `; next attempt in ${next} s` : ''}`,
    );
  }
  if (history) {
    lines.push(history.length ? '  history:' : '  history:        (no refresh yet)');
    for (const h of history) {
      lines.push(
        `    ${iso(h.at)}  ${h.kind.padEnd(9)} ${h.outcome.padEnd(12)} ${h.status ?? ''}${h.error ? ` ${h.error}` : ''}  ${h.durationMs} ms`,
      );
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The same facts for `--json`. */
export function lifecycleJson(
  c: Connection,
  cap: TokenCapStatus | undefined,
  history: RefreshRecord[] | undefined,
): Record<string, unknown> {
  return {
    tokenCap: cap ?? null,
    refreshFailing: c.refreshFailing === true,
    ...(c.refreshFailing
      ? {
          refreshFailures: c.refreshFailures,
          failingSince: iso(c.failingSince),
          nextAttemptAt: iso(c.nextAttemptAt),
          lastErrorStatus: c.lastErrorStatus ?? null,
        }
      : {}),
    ...(history ? { history: history.map((h) => ({ ...h, at: iso(h.at) })) } : {}),
  };
}
