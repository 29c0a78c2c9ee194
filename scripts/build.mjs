// Build: TypeScript to dist/, then copy the non-TypeScript assets (SQL migrations, CSS, static files)
// that live beside the code, so that dist/ mirrors src/. Run by `npm ci` through `prepare`.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const ASSETS = new Set(['.sql', '.css', '.svg', '.png', '.ico', '.js', '.html', '.txt', '.json']);

// dist/ is overwritten in place, not wiped first, so that a running test using the built bin never sees it vanish.
const pkg = createRequire(import.meta.url).resolve('typescript/package.json');
const tsc = join(dirname(pkg), 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);

/** Copies every asset file under `dir` to the same relative place under dist/. */
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyAssets(path);
    else if (ASSETS.has(extname(name)) && !name.endsWith('.d.ts')) cpSync(path, join(dist, relative(src, path)));
  }
}
copyAssets(src);
chmodSync(join(dist, 'cli', 'main.js'), 0o755);
