// Inclusive time of functions (and of files) in a .cpuprofile: where a request's time goes, callees included.
// Usage: node bench/tools/inclusive.mjs file.cpuprofile [N] [filter-substring]
import { readFileSync } from 'node:fs';

const [file, n = '40', filter = ''] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const parent = new Map();
for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const self = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const incl = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const c = byId.get(x).callFrame;
    const where = c.url.replace(/^.*node_modules\//, 'nm:').replace(/^file:\/\/.*\/dist\//, 'dist/');
    const k = `${c.functionName || '(anon)'} ${where}:${c.lineNumber + 1}`;
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + us);
  }
}
console.log(`total ${(total / 1e6).toFixed(2)} s sampled`);
[...incl]
  .filter(([k]) => k.includes(filter))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(n))
  .forEach(([k, us]) => {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  });
