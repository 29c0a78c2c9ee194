// Build: TypeScript to dist/, then copy the non-TypeScript assets (SQL migrations, CSS, static files)
// that live beside the code, so that dist/ mirrors src/. Run by `npm ci` through `prepare`.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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

// The bin is bundled: one ESM entry (dist/cli/main.js, from tsc's dist/cli/bin.js) plus lazily loaded chunks, one per command and
// per heavy part (server, emulator, vault). Node's ESM loader resolves and links every file of a module graph one by
// one; zod, Fastify and our own modules are hundreds of files, which cost `webex-auth token` 3× the start-up of bare
// `node`. Bundled from tsc's output, so the code that runs is the code the type-checker saw.
// esbuild-wasm, not esbuild: npm here cannot lock esbuild's per-platform native packages, and the WebAssembly build is
// one package with nothing to download.
const esbuild = await import('esbuild-wasm');
// better-sqlite3's JavaScript is bundled (its addon is loaded by path, see src/vault/store/sqlite.ts; package.json pins
// its exact version, so the bundled JavaScript and the installed addon always match), and pino (we use
// no transports, the one part of pino that needs its own files: they run in worker threads by file path); pg, whose
// optional native driver is looked up at run time, stays as installed.
const EXTERNAL = ['pg', 'pg-native'];
const cliDir = join(dist, 'cli');

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // Bundled CommonJS packages (Fastify and friends) call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __waRequire } from 'node:module'; const require = __waRequire(import.meta.url);",
  },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};

// `webex-auth token` sits inside `$(…)` on every request, so its command is bundled a second time on its own: all it
// runs on a fresh cached token in one file (with its own copies of the configuration and the vault), what it needs
// only to refresh (the OAuth client) or for PostgreSQL in lazily loaded chunks beside it. Loading the dozen chunks it
// shares with other commands in the main bundle costs it ~0.2× of bare `node`'s start-up. The command table imports it
// as `#token-command`, a subpath import package.json maps to that file, so the import is right wherever the chunk
// holding it lands and in an installed copy. Nothing crosses between the copies but plain objects and errors, which
// the CLI recognises by name.
const TOKEN_COMMAND = join(cliDir, 'commands', 'token.js');
const TOKEN_DIR = join(cliDir, 'token');
const TOKEN_BUNDLE = join(TOKEN_DIR, 'token.js');
const TOKEN_IMPORT = '#token-command';
const tokenOnItsOwn = {
  name: 'token-command-on-its-own',
  setup(build) {
    build.onResolve({ filter: /\/commands\/token\.js$/ }, (args) =>
      join(args.resolveDir, args.path) === TOKEN_COMMAND ? { path: TOKEN_IMPORT, external: true } : undefined,
    );
  },
};

const built = await esbuild.build({
  ...common,
  // Never bundled in place: the input must always be tsc's fresh output, not an earlier bundle.
  entryPoints: { main: join(cliDir, 'bin.js') },
  outdir: cliDir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [tokenOnItsOwn],
});
const tokenBuilt = await esbuild.build({
  ...common,
  entryPoints: [TOKEN_COMMAND],
  outdir: TOKEN_DIR,
  splitting: true,
  chunkNames: '[name]-[hash]',
});
await esbuild.stop();

const pkgImports = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports ?? {};
if (join(root, pkgImports[TOKEN_IMPORT] ?? '') !== TOKEN_BUNDLE) {
  throw new Error(`build: package.json "imports" must map ${TOKEN_IMPORT} to ./${relative(root, TOKEN_BUNDLE)}`);
}

// Chunks of earlier builds are removed once they are an hour old (a process started before this build may still load one).
const current = new Set(
  [...Object.keys(built.metafile.outputs), ...Object.keys(tokenBuilt.metafile.outputs)].map((p) => join(root, p)),
);
for (const dir of [join(cliDir, 'chunks'), TOKEN_DIR]) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!current.has(path) && Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path);
  }
}
chmodSync(join(cliDir, 'main.js'), 0o755);
