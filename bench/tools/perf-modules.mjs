// Where a `perf record -g` profile of `serve` goes, by source module: V8's code of one bundle (dist/cli/serve/serve.cjs)
// is named by line with node's --perf-basic-prof, and esbuild marks where each source module begins in the bundle
// (`// dist/vault/sessions.js`), so every sample is charged to the first module of ours, of a package, or of Node's
// own JavaScript up its stack. Usage:
//
//   perf script -i perf.data | node bench/tools/perf-modules.mjs dist/cli/serve/serve.cjs [N]
//
// Prints self samples by kind of code (kernel, SQLite, V8's compiler, GC, …), self samples by owning module, the
// share of samples with each module anywhere on the stack, and the same for each function of the bundle (anywhere, and
// as the first up the stack). perf's map of JIT code can go stale when V8 moves code,
// so a frame now and then names the wrong function: read the shares, not single samples.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [bundle, top = '40'] = process.argv.slice(2);
if (!bundle) {
  console.error('usage: perf script -i perf.data | node bench/tools/perf-modules.mjs <bundle.cjs> [N]');
  process.exit(2);
}
const bundleName = bundle.split('/').pop();
/** [first line, module] of each module in the bundle, in order. */
const starts = [];
readFileSync(bundle, 'utf8')
  .split('\n')
  .forEach((line, i) => {
    const m = /^\/\/ ((?:dist|node_modules|src)\/\S+)$/.exec(line);
    if (m) starts.push([i + 1, m[1].replace(/^node_modules\/((?:@[^/]+\/)?[^/]+)\/.*/, 'pkg:$1')]);
  });
/** The module of the bundle that holds line `n`. */
function moduleAt(n) {
  let lo = 0;
  let hi = starts.length - 1;
  let found = '?';
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid][0] <= n) {
      found = starts[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
/** What kind of code a frame is: a module (ours, a package's, Node's) or a kind of native code. */
function kindOf({ sym, dso }) {
  if (sym.startsWith('JS:')) {
    const inBundle = /(\S+\.cjs):(\d+):\d+/.exec(sym);
    if (inBundle?.[1].endsWith(bundleName)) return moduleAt(Number(inBundle[2]));
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(sym);
    if (pkg) return `pkg:${pkg[1]}`;
    const builtin = /(node:[\w/_-]+)/.exec(sym);
    if (builtin) return builtin[1].replace(/^node:internal\/(streams|http|fs)\/.*/, 'node:internal/$1');
  }
  if (dso.includes('better_sqlite3')) return 'native:sqlite';
  if (dso.includes('kernel')) return 'native:kernel';
  if (dso.includes('libc')) return 'native:libc';
  if (/compiler|Turbofan|Maglev|Pipeline/.test(sym)) return 'v8:compiler';
  if (/Scavenge|MarkCompact|Sweep|Heap::|Marking/.test(sym)) return 'v8:gc';
  if (sym.startsWith('Builtins_')) return 'v8:builtins';
  if (/^(node::|uv_)/.test(sym)) return 'native:node';
  return /v8::/.test(sym) ? 'v8:runtime' : `native:${dso.split('/').pop()}`;
}
const isModule = (kind) => !kind.includes(':') || kind.startsWith('pkg:') || kind.startsWith('node:');

const leafKinds = new Map();
const owners = new Map();
const onStack = new Map();
const functionsOnStack = new Map();
const functionOwners = new Map();
/** "name (module)" of a JS frame of the bundle, else undefined. */
function functionOf({ sym }) {
  const m = /^JS:[*~^+-]?(\S*) (\S+\.cjs):(\d+):\d+/.exec(sym);
  return m?.[2].endsWith(bundleName) ? `${m[1] || '(anonymous)'} (${moduleAt(Number(m[3]))}:${m[3]})` : undefined;
}
const add = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
let samples = 0;
let frames = [];
function endSample() {
  if (frames.length === 0) return;
  samples++;
  const kinds = frames.map(kindOf);
  add(leafKinds, kinds[0]);
  add(owners, kinds.find(isModule) ?? kinds[0]);
  for (const kind of new Set(kinds)) add(onStack, kind);
  const fns = frames.map(functionOf);
  for (const fn of new Set(fns)) if (fn) add(functionsOnStack, fn);
  add(functionOwners, fns.find(Boolean) ?? `(outside the bundle) ${kinds.find(isModule) ?? kinds[0]}`);
  frames = [];
}
for await (const line of createInterface({ input: process.stdin })) {
  const frame = /^\s+[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$/.exec(line);
  if (frame) frames.push({ sym: frame[1], dso: frame[2] });
  else endSample();
}
endSample();
for (const [title, map] of [
  ['self, by kind of code', leafKinds],
  ['self, charged to the first module up the stack', owners],
  ['anywhere on the stack', onStack],
  ["the bundle's functions anywhere on the stack", functionsOnStack],
  ['self, charged to the first function of the bundle up the stack', functionOwners],
]) {
  console.log(`== ${title} (${samples} samples)`);
  for (const [key, n] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    console.log(`${((100 * n) / samples).toFixed(1).padStart(6)} %  ${key}`);
  }
}
