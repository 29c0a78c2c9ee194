// `npm run bench`: builds, runs every benchmark in turn (each bounded in time), and writes bench/RESULTS.md.
// Not part of `npm test`. Select some with `npm run bench -- startup cli-token`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fmt, machine, medianOfRuns, ROOT, WORK } from './lib.mjs';

/** The heading of RESULTS.md's section that holds the previous full run's table. */
const PREVIOUS_HEADING = '## The full run before this one';

// Benchmarks run only when named (`npm run bench -- scale`): long, and they need more than this machine's usual set-up.
const BY_NAME_ONLY = ['scale'];
const ALL = readdirSync(join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.mjs') && !['lib.mjs', 'run.mjs'].includes(f))
  .map((f) => f.replace(/\.mjs$/, ''))
  .filter((name) => !BY_NAME_ONLY.includes(name));
// `npm run bench -- --report` only rewrites RESULTS.md from the last results (e.g. after editing limits.md).
const reportOnly = process.argv.includes('--report');
const args = process.argv.slice(2).filter((a) => a !== '--report');
const chosen = reportOnly ? [] : args.length ? args : ALL;

if (!reportOnly) {
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// Only the previous results of the chosen benchmarks (the others' stay in RESULTS.md); bench/.work also holds
// checkouts the benches compare against (flow.mjs's sample).
for (const name of chosen) rmSync(join(WORK, `${name}.json`), { force: true });

// The figures with a ratio target are each the median of RUNS runs (BENCH_REPEAT, default 3), each run with its load
// average; the long benches with absolute figures run once.
const REPEATED = ['broker', 'cli-token', 'flow', 'proxy', 'startup'];
const RUNS = Number(process.env.BENCH_REPEAT ?? 3);

const loadAtStart = loadavg();
const failed = [];
for (const name of chosen) {
  const runs = [];
  const times = REPEATED.includes(name) ? RUNS : 1;
  for (let i = 1; i <= times; i++) {
    console.log(`\n== ${name}${times > 1 ? ` (run ${i} of ${times})` : ''}`);
    const load = loadavg()[0];
    const r = spawnSync(process.execPath, [join(ROOT, 'bench', `${name}.mjs`)], {
      cwd: ROOT,
      stdio: 'inherit',
      // The scale bench bounds itself at 14 minutes (bench/scale.mjs).
      timeout: (name === 'scale' ? 16 : 10) * 60_000,
    });
    const file = join(WORK, `${name}.json`);
    if (r.status !== 0 || !existsSync(file)) {
      failed.push(name);
      break;
    }
    runs.push({ load, result: JSON.parse(readFileSync(file, 'utf8')) });
  }
  if (runs.length > 1) writeFileSync(join(WORK, `${name}.json`), JSON.stringify(medianOfRuns(runs), null, 2));
}

const results = existsSync(WORK)
  ? readdirSync(WORK)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(WORK, f), 'utf8')))
  : [];
const lines = [
  '# Benchmark results',
  '',
  `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}. Produced by \`npm run bench\`; every ratio is against a baseline measured in the same run.`,
  '',
  `Load average (1/5/15 min) ${reportOnly ? 'when this file was written' : `at the start of the run ${loadAtStart.map((n) => n.toFixed(2)).join(' / ')}, at its end`} ${loadavg()
    .map((n) => n.toFixed(2))
    .join(
      ' / ',
    )}; the notes give it for each benchmark. The machine is shared with other engineers running tests, so absolute figures are noisy.`,
  '',
  '| bench | measure | value | baseline | ratio | target | met |',
  '| --- | --- | --- | --- | --- | --- | --- |',
];
/** One table row of a result. */
const tableRow = (bench, r) =>
  `| ${bench} | ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.baseline === undefined ? '' : fmt(r.baseline)} | ${r.ratio === undefined ? '' : r.ratio.toFixed(2)} | ${r.target ?? ''} | ${r.target ? (r.pass ? 'yes' : '**no**') : ''} |`;
// A result with a `section` (the scale bench) gets a section of its own after the main table; its .work file stays
// until that bench runs again, so other benches' runs keep it.
const main = results.filter((r) => !r.section);
for (const { bench, rows } of main) for (const r of rows) lines.push(tableRow(bench, r));
for (const { bench, notes } of main) for (const n of notes ?? []) lines.push('', `- ${bench}: ${n}`);
for (const { bench, rows, notes, section, at } of results.filter((r) => r.section)) {
  lines.push('', `## ${section}`, '', `Run of ${at.slice(0, 16)}Z.`, '');
  lines.push(
    '| bench | measure | value | baseline | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of rows) lines.push(tableRow(bench, r));
  for (const n of notes ?? []) lines.push('', `- ${n}`);
}
// A section whose bench did not run here (its .work file is gone: a fresh checkout) is carried over as RESULTS.md
// holds it, with the date of its own run, rather than dropped.
const resultsFile = join(ROOT, 'bench', 'RESULTS.md');
const before = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '';
// Matched by the heading's words before any parenthesis: a rerun with other parameters replaces the section.
const sectionName = (heading) => heading.replace(/^## /, '').replace(/ \(.*$/, '');
const written = new Set(results.filter((r) => r.section).map((r) => sectionName(r.section)));
for (const kept of sectionsOf(before)) if (!written.has(sectionName(kept.heading))) lines.push('', kept.text);
if (failed.length) lines.push('', `Benchmarks that failed to run: ${failed.join(', ')}.`);
// The run before this one, so that two consecutive runs can be read side by side: a full run moves the table it
// replaces here; a partial run or --report keeps the one already here.
const fullRun = !reportOnly && ALL.every((name) => chosen.includes(name));
const earlier = fullRun ? lastRunOf(before) : previousRunOf(before);
if (earlier) lines.push('', PREVIOUS_HEADING, '', earlier);
// What limited each missed target (written by hand after profiling; see bench/limits.md).
const limits = join(ROOT, 'bench', 'limits.md');
if (existsSync(limits)) lines.push('', readFileSync(limits, 'utf8').trim());
writeFileSync(resultsFile, `${lines.join('\n')}\n`);
console.log(
  `\nwrote bench/RESULTS.md (${results.length} benchmarks${failed.length ? `, failed: ${failed.join(', ')}` : ''})`,
);

/** The date and load lines and the main table of a RESULTS.md (its latest run), or undefined. */
function lastRunOf(text) {
  const start = text.indexOf('Machine: ');
  const table = text.indexOf('| bench | measure |');
  if (start < 0 || table < 0) return undefined;
  const end = text.indexOf('\n\n', table);
  return text.slice(start, end < 0 ? undefined : end).trim();
}

/** The previous-run section a RESULTS.md already holds (without its heading), or undefined. */
function previousRunOf(text) {
  const at = text.indexOf(PREVIOUS_HEADING);
  if (at < 0) return undefined;
  const body = text.slice(at + PREVIOUS_HEADING.length).trimStart();
  const end = body.indexOf('\n\n', body.indexOf('| bench | measure |'));
  return body.slice(0, end < 0 ? undefined : end).trim();
}

/**
 * The benches' own sections of a RESULTS.md (`## …` after the main table, before the previous run and bench/limits.md),
 * each with its heading and its whole text.
 */
function sectionsOf(text) {
  const limits = join(ROOT, 'bench', 'limits.md');
  const firstLimit = existsSync(limits) ? /^## .*$/m.exec(readFileSync(limits, 'utf8'))?.[0] : undefined;
  const stops = [PREVIOUS_HEADING, firstLimit].map((h) => (h ? text.indexOf(`\n${h}\n`) : -1)).filter((i) => i >= 0);
  const body = text.slice(0, stops.length ? Math.min(...stops) : undefined);
  return [...body.matchAll(/^## .*$/gm)].map((m, i, all) => {
    const text = body.slice(m.index, all[i + 1]?.index);
    // Not the line this file adds after the sections: it belongs to the run that wrote it.
    const failedLine = text.indexOf('\nBenchmarks that failed to run:');
    return { heading: m[0], text: (failedLine < 0 ? text : text.slice(0, failedLine)).trim() };
  });
}
