/** Small text formatters of the CLI: durations, masked tokens, aligned tables. Pure functions. */

/** A duration in ms as the largest two units, e.g. `13d 23h`, `4h 10m`, `59s`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || (parts.length === 0 && unit === 's')) parts.push(`${n}${unit}`);
    rest -= n * size;
    if (parts.length === 2) break;
    if (parts.length === 1 && n === 0) break;
  }
  return parts.join(' ');
}

/** `in 13d 23h` or `expired 2h ago`, relative to `now`. */
export function formatCountdown(at: number, now: number): string {
  return at > now ? `in ${formatDuration(at - now)}` : `expired ${formatDuration(now - at)} ago`;
}

/** `expires in 13d 23h` or `expired 2h ago` (never `expires expired …`), relative to `now`. */
export function formatExpiry(at: number, now: number): string {
  return at > now ? `expires ${formatCountdown(at, now)}` : formatCountdown(at, now);
}

/**
 * Masks a token for display: its first four characters and a fixed run of stars, so that neither the token nor its
 * length shows (as `gh auth status` does).
 */
export function maskToken(token: string): string {
  return `${token.slice(0, 4)}${'*'.repeat(16)}`;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: string[][], visibleLength: (s: string) => number = (s) => s.length): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell));
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** Strips ANSI colour codes (for measuring and for tests). */
export function stripAnsi(s: string): string {
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}
