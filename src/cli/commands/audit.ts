/**
 * `webex-auth audit`: the audit log of the store (every entry: the CLI is the store's operator), newest first, as a
 * table or `--json` (an array). Entries older than AUDIT_RETENTION_DAYS are purged first, as the server does on a
 * timer. Text from Webex (display names) is made terminal-safe before it is printed.
 */
import { actorText } from '../../vault/audit.js';
import type { Command } from '../command.js';
import { loadCliConfig, withVault } from '../context.js';
import { CliError, EXIT } from '../io.js';
import { stripAnsi, table } from '../ui/format.js';
import { createOutput, JSON_FLAG, JSON_HELP } from '../ui/output.js';
import { terminalSafe } from '../ui/terminal-safe.js';

const UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000 };
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * `--since` as epoch ms: `7d` / `12h` / `30m` before `now`, a UTC date (`2026-12-01`, from its midnight) or an ISO
 * time with a zone; undefined when it is none of these.
 */
export function parseSince(value: string, now: number): number | undefined {
  const ago = /^(\d{1,5})([dhm])$/.exec(value);
  if (ago) return now - Number(ago[1]) * (UNITS[ago[2] as string] as number);
  const day = DATE.exec(value);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const at = Date.UTC(y, m - 1, d);
    // 2026-02-30 is no date (Date.UTC would roll it over to March).
    return new Date(at).toISOString().startsWith(value) ? at : undefined;
  }
  if (DATE_TIME.test(value)) {
    const at = Date.parse(value);
    return Number.isFinite(at) ? at : undefined;
  }
  return undefined;
}

/** One line of text for a cell: terminal-safe, and `-` when empty. */
const cell = (text: string | undefined) => terminalSafe(text ?? '').trim() || '-';

const command: Command = {
  summary: 'Show the audit log: sign-ins, connections, refreshes, keys, deletes',
  usage: 'audit [--since <2026-12-01|7d>] [--limit <n>] [--json]',
  flags: { since: { type: 'string' }, limit: { type: 'string' }, ...JSON_FLAG },
  help: {
    since: 'Only entries since a UTC date (2026-12-01), an ISO time, or a while ago (7d, 12h, 30m)',
    limit: 'At most this many entries, newest first (1–1000, default 100)',
    ...JSON_HELP,
  },
  details: 'Entries are kept AUDIT_RETENTION_DAYS days (default 90); older ones are deleted when this command runs.',
  async run(args, io) {
    const out = createOutput(io, args.values);
    const rawSince = args.values.since;
    const rawLimit = args.values.limit;
    const since = typeof rawSince === 'string' ? parseSince(rawSince, Date.now()) : undefined;
    if (typeof rawSince === 'string' && since === undefined) {
      throw new CliError(
        `--since "${terminalSafe(rawSince).slice(0, 40)}" is not a date (2026-12-01), an ISO time or a while ago (7d, 12h)`,
        EXIT.usage,
      );
    }
    const limit = typeof rawLimit === 'string' ? Number(rawLimit) : 100;
    if (typeof rawLimit === 'string' && !(/^\d{1,4}$/.test(rawLimit) && limit >= 1 && limit <= 1000)) {
      throw new CliError('--limit must be a whole number from 1 to 1000', EXIT.usage);
    }
    const config = await loadCliConfig(io);
    const entries = await withVault(config, async (vault) => {
      await vault.audit.purge();
      return vault.audit.list({ ...(since !== undefined ? { since } : {}), limit });
    });
    out.data(entries, () =>
      entries.length === 0
        ? ''
        : table(
            [
              ['TIME (UTC)', 'ACTOR', 'ACTION', 'TARGET', 'ADDRESS', 'DETAIL'].map((h) => out.out.bold(h)),
              ...entries.map((e) => [
                new Date(e.at).toISOString().slice(0, 19).replace('T', ' '),
                cell(actorText(e.actor)),
                cell(e.action),
                cell(e.target),
                cell(e.address),
                cell(e.detail),
              ]),
            ],
            (s) => stripAnsi(s).length,
          ),
    );
    if (entries.length === 0 && !out.json) out.info('No audit entries.');
    return EXIT.ok;
  },
};

export default command;
