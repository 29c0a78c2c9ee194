// Summarises a .cpuprofile (node --cpu-prof): self time by function and by package/file, top N. Usage:
// node bench/tools/top-self.mjs file.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, n = '25'] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++)
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const file_ = new Map();
for (const [id, us] of self) {
  const { callFrame: c } = byId.get(id);
  const where = c.url.replace(/^.*node_modules\//, 'nm:').replace(/^file:\/\/.*\/dist\//, 'dist/');
  const k = `${c.functionName || '(anon)'} ${where}:${c.lineNumber + 1}`;
  fn.set(k, (fn.get(k) ?? 0) + us);
  const f = where.startsWith('nm:')
    ? where
        .split('/')
        .slice(0, where.startsWith('nm:@') ? 2 : 1)
        .join('/')
    : where || c.functionName;
  file_.set(f, (file_.get(f) ?? 0) + us);
}
const show = (m) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(n))
    .forEach(([k, us]) => {
      console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
    });
console.log(`total ${(total / 1e6).toFixed(2)} s sampled\n-- by function`);
show(fn);
console.log('-- by file/package');
show(file_);
