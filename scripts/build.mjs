// Build: TypeScript to dist/, then copy the non-TypeScript assets (SQL migrations, CSS, static files)
// that live beside the code, so that dist/ mirrors src/. Run by `npm ci` through `prepare`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
// The migrations are found by listing their folder at run time, so one renamed or removed in src/ must not linger in
// dist/ (a renamed 010 left two migrations numbered 10, and every command failed on vault_migrations.id).
for (const kind of ['sqlite', 'postgres']) {
  const from = join(src, 'vault', 'migrations', kind);
  const to = join(dist, 'vault', 'migrations', kind);
  const current = new Set(readdirSync(from));
  for (const name of readdirSync(to)) if (name.endsWith('.sql') && !current.has(name)) rmSync(join(to, name));
}

// The CLI is bundled. The installed bin, dist/cli/webex-auth.cjs (tsc's output of src/cli/webex-auth.cts), hands
// `token` to its own bundle (below) and every other command to one ESM entry, dist/cli/main.js (from tsc's
// dist/cli/bin.js), plus lazily loaded chunks, one per command and per heavy part (server, emulator, vault). Node's
// ESM loader resolves and links every file of a module graph one by one; zod, Fastify and our own modules are hundreds
// of files, which cost `webex-auth token` 3× the start-up of bare `node`. Bundled from tsc's output, so the code that
// runs is the code the type-checker saw.
// esbuild-wasm, not esbuild: npm here cannot lock esbuild's per-platform native packages, and the WebAssembly build is
// one package with nothing to download.
const esbuild = await import('esbuild-wasm');
// better-sqlite3's JavaScript is bundled (its addon is loaded by path, see src/vault/store/sqlite.ts; package.json pins
// its exact version, so the bundled JavaScript and the installed addon always match), and pino (we use
// no transports, the one part of pino that needs its own files: they run in worker threads by file path); pg, whose
// optional native driver is looked up at run time, stays as installed.
const EXTERNAL = ['pg', 'pg-native'];
const cliDir = join(dist, 'cli');

/**
 * @fastify/cookie (CommonJS) loads `cookie` with import(), which Node 20 needs for cookie 2 (ESM only). package.json
 * overrides `cookie` to 1.x (CommonJS, same API), because cookie 2 declares Node 22. In a split ESM bundle an import()
 * of a CommonJS module becomes a chunk whose only export is `default`, where Node's own loader gives the named exports
 * too: this points that import() at a small ESM module re-exporting them by name, read from the package at build time.
 */
const namedExportsOfDynamicCjs = {
  name: 'named-exports-of-dynamic-cjs',
  setup(build) {
    build.onResolve({ filter: /^cookie$/ }, (args) =>
      args.kind === 'dynamic-import'
        ? { path: relative(root, createRequire(args.importer).resolve(args.path)), namespace: 'cjs-named-exports' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'cjs-named-exports' }, (args) => {
      // The path is kept relative to the repository, so no machine path lands in the bundle.
      const file = join(root, args.path);
      const names = Object.keys(createRequire(import.meta.url)(file)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
      return {
        contents: `import * as m from ${JSON.stringify(file)};\n${names.map((n) => `export const ${n} = m.${n};`).join('\n')}\n`,
        resolveDir: dirname(file),
      };
    });
  },
};

/**
 * zod's `locales` namespace (`z.locales`) holds its error messages in ~40 languages, half of the zod chunk's ~750 KB;
 * `import * as z` keeps the whole namespace in the bundle, so every process that loads zod (`serve`, a refresh) decoded
 * and parsed them all. Only English is used (zod sets it itself), so the namespace is bundled with `en` alone
 * (bench/startup.mjs; importing the zod chunk costs ~28 % less CPU).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: "export { default as en } from './en.js';",
      loader: 'js',
    }));
  },
};

/**
 * Fastify's server.js requires node:https and node:http2 when it loads, for the https and HTTP/2 servers it makes
 * only when asked; node:http2 alone brings in tls, readline, fs/promises and the ESM loader (~20–30 M instructions of
 * `serve`'s start, callgrind). Bundled with both required on first use instead, through a proxy that loads the module
 * at the first property read. A Fastify whose server.js no longer has these lines fails the build.
 */
const fastifyLazyTlsServers = {
  name: 'fastify-lazy-tls-servers',
  setup(build) {
    build.onLoad({ filter: /[\\/]fastify[\\/]lib[\\/]server\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const eager = ["const https = require('node:https')\n", "const http2 = require('node:http2')\n"];
      if (!eager.every((line) => text.includes(line)))
        throw new Error(`build: ${relative(root, args.path)} no longer requires node:https and node:http2 as expected`);
      const lazy =
        'const __waLazy = (name) => { let m; return new Proxy({}, { get: (_, key) => { m ??= require(name); ' +
        "const v = m[key]; return typeof v === 'function' ? v.bind(m) : v } }) }\n" +
        "const https = __waLazy('node:https')\nconst http2 = __waLazy('node:http2')\n";
      return { contents: text.replace(eager[0], '').replace(eager[1], lazy), loader: 'js' };
    });
  },
};

const common = {
  // Metafile paths are relative to this, and the checks below read them relative to the repository root.
  absWorkingDir: root,
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
  // V8 reads a one-byte (Latin-1) source faster than UTF-8 and keeps it in half the memory: non-ASCII characters in
  // strings, templates and regular expressions are written as escapes (what esbuild leaves, see asciiOnly below).
  charset: 'ascii',
  metafile: true,
  logLevel: 'warning',
};

// `webex-auth token` sits inside `$(…)` on every request, so the bin (src/cli/webex-auth.cts, CommonJS) hands it
// straight to a bundle of its own (src/cli/token-main.ts): all its cached-token path runs in one CommonJS file,
// dist/cli/token/token.cjs, loaded with require(). Node 20's CommonJS loader reads and compiles a file synchronously;
// its ESM loader first starts itself, then resolves, fetches and links every file in promise jobs: with the
// dispatcher's chunks, ~45 M instructions more (7 % of a bare `node` start here, callgrind). The bundle has its own
// copies of the configuration, the vault and the error classes, which the CLI recognises by brand and code
// (src/errors.ts), never by class identity.
// esbuild does not split CommonJS output: an import() of a bundled module becomes a lazily run function in the same
// file, which still costs parsing at every start. The big parts the token path seldom runs — the OAuth client with zod
// (a refresh) and pino (a vault with a logger) — are therefore built as ESM entries beside it (LAZY), and the bundle's
// import() of them points at those files. The two builds must share no module (checked below): a class copied into
// both would fail `instanceof` across them (errors are recognised by brand and code instead, src/errors.ts).
// Inside the bundle, the full vault (dist/vault/vault.js) is reached only by import() too (src/cli/context.ts): esbuild
// wraps such modules in functions run on first use, so a fresh cached token (src/vault/token-reader.ts) runs none of
// its module code (test/unit/token-bundle.test.ts).
const TOKEN_DIR = join(cliDir, 'token');
const TOKEN_BUNDLE = join(TOKEN_DIR, 'token.cjs');
const TOKEN_METAFILE = join(TOKEN_DIR, 'metafile.json');
const LAZY = {
  tokens: join(dist, 'oauth', 'tokens.js'),
  // The one Retry-After/backoff helper: the OAuth client holds it, so the refresher and webhooks import() it.
  retryAfter: join(dist, 'oauth', 'retry-after.js'),
  log: join(dist, 'log.js'),
  // The vault's calls to Webex for identities and the Authorizations API of its reconciliation: zod, imported on first
  // use (a bundled import() would still be parsed at every start).
  identityCalls: join(dist, 'vault', 'identity-calls.js'),
  authorizations: join(dist, 'webex', 'authorizations.js'),
  // The Standard Webhooks signer (standardwebhooks), on the first signed delivery.
  webhookSigner: join(dist, 'vault', 'webhook-signer.js'),
};

// `serve`'s start (src/cli/commands/serve-parts.ts: the web app, the served vault, the demo's emulator) is one CommonJS
// bundle, dist/cli/serve/serve.cjs, read through a V8 code cache as the token bundle is: on Node 20 only a vm.Script
// takes a code cache, and compiling the server's chunks was about a third of the instructions from spawn to /readyz.
// In the ESM build, the serve command's import() of serve-parts.js is pointed at src/cli/serve-bundle.ts, which
// requires that bundle. Packages the start never runs stay out of it, loaded from node_modules on first use
// (SERVE_EXTERNAL): a CommonJS bundle cannot split, so they would be read and kept in memory at every start.
const SERVE_DIR = join(cliDir, 'serve');
const SERVE_BUNDLE = join(SERVE_DIR, 'serve.cjs');
const SERVE_PARTS = join(cliDir, 'commands', 'serve-parts.js');
const servePartsFromBundle = {
  name: 'serve-parts-from-bundle',
  setup(build) {
    build.onResolve({ filter: /\/serve-parts\.js$/ }, (args) =>
      join(args.resolveDir, args.path) === SERVE_PARTS ? { path: join(cliDir, 'serve-bundle.js') } : undefined,
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
  plugins: [namedExportsOfDynamicCjs, zodEnglishOnly, servePartsFromBundle, fastifyLazyTlsServers],
});
const lazyBuilt = await esbuild.build({
  ...common,
  entryPoints: LAZY,
  outdir: TOKEN_DIR,
  splitting: true,
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  plugins: [zodEnglishOnly],
});
const lazyFile = new Map(
  Object.entries(lazyBuilt.metafile.outputs)
    .filter(([, o]) => o.entryPoint)
    .map(([out, o]) => [join(root, o.entryPoint), `./${relative(TOKEN_DIR, join(root, out))}`]),
);
/**
 * The options of a CommonJS bundle run through the code cache (src/cli/code-cache.cts). No require() shim needed;
 * import.meta.url (paths.ts, the SQLite addon's and the keychain's createRequire) is the bundle's URL, and
 * import.meta.resolve (lazy-validation.ts: Fastify's ajv compiler) resolves from the bundle's place.
 * `_waImp` is the bundle's import() (see below): the loader of src/cli/code-cache.cts passes its own, else Node's.
 */
const codeCachedCjs = {
  ...common,
  format: 'cjs',
  banner: {
    js: [
      '"use strict";',
      "const __waImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
      "const __waImportMetaResolve = (specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href;",
      "const _waImp = typeof __waCodeCacheImport === 'function' ? __waCodeCacheImport : (specifier) => import(specifier);",
    ].join('\n'),
  },
  define: { 'import.meta.url': '__waImportMetaUrl', 'import.meta.resolve': '__waImportMetaResolve' },
};
const tokenBuilt = await esbuild.build({
  ...codeCachedCjs,
  entryPoints: [join(cliDir, 'token-main.js')],
  outfile: TOKEN_BUNDLE,
  plugins: [
    {
      name: 'token-lazy-parts',
      setup(build) {
        build.onResolve({ filter: /^\./ }, (args) => {
          if (args.kind !== 'dynamic-import') return undefined;
          const file = lazyFile.get(join(args.resolveDir, args.path));
          return file ? { path: file, external: true } : undefined;
        });
      },
    },
  ],
});
const SERVE_EXTERNAL = ['undici', '@fastify/swagger', 'markdown-it'];
const serveBuilt = await esbuild.build({
  ...codeCachedCjs,
  // serve-main.js: the serve command itself for the bin's CommonJS path, and serve-parts.js's exports for the CLI's.
  entryPoints: [join(cliDir, 'serve-main.js')],
  outfile: SERVE_BUNDLE,
  external: [...EXTERNAL, ...SERVE_EXTERNAL],
  plugins: [zodEnglishOnly, fastifyLazyTlsServers],
});
// The bin's own CommonJS helpers (src/cli/webex-auth.cts requires them before any bundle): the hot-token file of
// `webex-auth token` (src/cli/hot-token.ts, whose hit prints the token without loading the token bundle) and the cache
// directory rule it shares with the code cache (src/cli/code-cache.cts; the bin carries the reader inline, below).
// Written as ESM sources, so that the `token` command imports the same module, and bundled to one small CommonJS file
// each: no ESM loader on the hot path. The bin carries hot-token-print.cjs, the reader alone (esbuild drops the
// writer's functions from that entry); hot-token.cjs, whole, is what the tests load.
const BIN_HELPERS = ['hot-token', 'hot-token-print', 'cache-dir'];
for (const name of BIN_HELPERS) {
  await esbuild.build({
    ...common,
    banner: undefined,
    format: 'cjs',
    entryPoints: [join(cliDir, `${name}.js`)],
    outfile: join(cliDir, `${name}.cjs`),
    metafile: false,
  });
}
// The bin itself is bundled in place with the hot-token reader inline: a hit then loads one file. In place is safe
// only because tsc wrote webex-auth.cjs afresh above, at every build: this never bundles an earlier bundle.
// Requiring a second file through Node's CommonJS loader (resolve, stat, read, wrap, compile) cost the hit ~2.4 M
// instructions, 2 % of `webex-auth token` (callgrind). main.js and the code-cache loader stay separate files, loaded
// only off the hot path.
const BIN = join(cliDir, 'webex-auth.cjs');
await esbuild.build({
  ...common,
  banner: undefined,
  format: 'cjs',
  entryPoints: [BIN],
  outfile: BIN,
  allowOverwrite: true,
  external: ['./main.js', './code-cache.cjs'],
  metafile: false,
});
await esbuild.stop();

// The token bundle runs through a V8 code cache (src/cli/code-cache.cts, vm.Script). On Node 20 an import() in a
// vm.Script compiled from a code cache fails ("A dynamic import callback was not specified"), and the main-context
// loader option prints an ExperimentalWarning, so the bundle's import() calls go through `_waImp` (the banner above):
// the code-cache loader's own import(), or Node's when the bundle is required plainly. Same length as `import`, so the
// source map stays exact.
for (const bundle of [TOKEN_BUNDLE, SERVE_BUNDLE]) {
  const text = readFileSync(bundle, 'utf8');
  const rewritten = text.replace(/\bimport\((?=["'])/g, '_waImp(');
  if (/\bimport\(\s*["']/.test(rewritten))
    throw new Error(`build: ${relative(root, bundle)} still calls import() directly`);
  writeFileSync(bundle, bundle === SERVE_BUNDLE ? withDigest(asciiOnly(rewritten)) : rewritten);
}

/**
 * `text` with a last line holding its SHA-256, which names the bundle's code cache (src/cli/code-cache.cts reads it
 * rather than hashing the 2.9 MB bundle at every start; the line's format is SOURCE_DIGEST there).
 */
function withDigest(text) {
  const digest = createHash('sha256').update(text).digest('hex');
  return `${text}\n// SHA-256 of the text above: ${digest}\n`;
}

/**
 * `text` with every non-ASCII character written as a `\u` escape. Node reads an all-ASCII file into a one-byte
 * string, which V8 keeps in half the memory (~2.8 MB of `serve`'s idle RSS for its bundle). After esbuild's
 * `charset: 'ascii'` only comments and tagged templates still hold any (esbuild leaves a tagged template as written,
 * since its tag may read the raw text); an escape is the same text in a comment, and the same string in a tagged
 * template's cooked strings, which are all our `html` tags read (src/server/html.ts, src/emulator/views/html.ts). A
 * bundle that reads raw template text (`String.raw`, `.raw[`) is refused rather than changed. Not for the token
 * bundle, whose size test/unit/token-bundle.test.ts matches against its metafile.
 */
function asciiOnly(text) {
  if (!/[^\x00-\x7f]/.test(text)) return text;
  if (/String\.raw|\.raw\[/.test(text)) throw new Error('build: a bundle reads raw template text: cannot escape it');
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// What went into the token bundle and its lazy parts, for test/unit/token-bundle.test.ts (which keeps zod, pino,
// Fastify and pg out of the bundle). Not packaged (package.json "files"). Written before the checks below, so that a
// failing build leaves what it found.
writeFileSync(TOKEN_METAFILE, JSON.stringify({ token: tokenBuilt.metafile, lazy: lazyBuilt.metafile }));
const inputs = (b) => new Set(Object.keys(b.metafile.inputs));
const lazyInputs = inputs(lazyBuilt);
const shared = [...inputs(tokenBuilt)].filter((i) => lazyInputs.has(i));
if (shared.length > 0) {
  throw new Error(
    `build: the token bundle and its lazy parts must share no module, but both hold ${shared.join(', ')}`,
  );
}
// The serve command reaches its start through serve-bundle.js (the code-cached bundle), never through serve-parts.js.
if (built.metafile.inputs[relative(root, SERVE_PARTS)]) {
  throw new Error(
    `build: the CLI bundle holds ${relative(root, SERVE_PARTS)}: serve must load it from ${relative(root, SERVE_BUNDLE)}`,
  );
}
const missed = Object.values(LAZY).filter(
  (f) => !tokenBuilt.metafile.outputs[relative(root, TOKEN_BUNDLE)]?.imports.some((i) => i.path === lazyFile.get(f)),
);
if (missed.length > 0) throw new Error(`build: the token bundle does not import its lazy parts ${missed.join(', ')}`);

// The bin loads the token bundle by its path relative to dist/cli/ (`require.resolve`, for the code cache of
// src/cli/code-cache.cts, which falls back to `require`), and package.json names the bin.
if (!readFileSync(BIN, 'utf8').includes(`require.resolve("./${relative(cliDir, TOKEN_BUNDLE)}")`)) {
  throw new Error(`build: ${relative(root, BIN)} must require ./${relative(cliDir, TOKEN_BUNDLE)}`);
}
if (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).bin?.['webex-auth'] !== relative(root, BIN)) {
  throw new Error(`build: package.json "bin" must name ${relative(root, BIN)}`);
}

// Chunks of earlier builds are removed once they are an hour old (a process started before this build may still load one).
const current = new Set(
  [built, lazyBuilt, tokenBuilt, serveBuilt].flatMap((b) => Object.keys(b.metafile.outputs)).map((p) => join(root, p)),
);
current.add(TOKEN_METAFILE);
for (const dir of [join(cliDir, 'chunks'), TOKEN_DIR, SERVE_DIR]) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!current.has(path) && Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path);
  }
}
chmodSync(BIN, 0o755);
