/**
 * `webex-auth token` runs inside `$(…)` before every Webex call, so its bundle (dist/cli/token/token.cjs, built by
 * scripts/build.mjs) holds only the cached-token path: zod, pino, Fastify, pg and undici must never enter it. zod
 * (the OAuth client, for a refresh) and pino (a vault with a logger) live in lazy parts it import()s; Fastify, pg and
 * undici (its transport) are the server's. This reads the esbuild metafile the build writes beside the bundle
 * (`npm test` builds first).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLE = 'dist/cli/token/token.cjs';
const METAFILE = join(ROOT, 'dist/cli/token/metafile.json');

/** The parts of an esbuild metafile read here. */
interface Metafile {
  inputs: Record<string, unknown>;
  outputs: Record<
    string,
    { bytes: number; inputs: Record<string, unknown>; imports: { path: string; kind: string; external?: boolean }[] }
  >;
}

/** zod, pino, Fastify, pg and undici, with their helper packages (pino-std-serializers, @fastify/*, pg-protocol, …). */
const FORBIDDEN = /^(zod|pino(-.+)?|fastify(-.+)?|@fastify\/.+|pg(-.+)?|undici)$/;
/**
 * pg is never bundled (scripts/build.mjs keeps it external), but the PostgreSQL store names it: with `DATABASE_URL`
 * set, `token` loads it. That reference is allowed from the store's module alone, which the bundle reaches by import().
 */
const PG_STORE = 'dist/vault/store/postgres.js';

/** The package an input belongs to: the innermost `node_modules/<name>` or `node_modules/@scope/<name>` of its path. */
function packageOf(input: string): string | undefined {
  return /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
}

/** The package a bare import names (`pg`, `zod/mini` → `zod`, `@fastify/cookie`); none for files and built-ins. */
function packageNamed(specifier: string): string | undefined {
  if (/^(\.|\/|node:)/.test(specifier)) return undefined;
  return specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
}

/** The forbidden packages an output holds (bundled) or loads (external imports), sorted and once each. */
function forbiddenIn(output: Metafile['outputs'][string]): string[] {
  const bundled = Object.keys(output.inputs).map(packageOf);
  const loaded = output.imports
    .filter((i) => i.external)
    .map((i) => packageNamed(i.path))
    .filter((name) => name !== 'pg');
  const names = [...bundled, ...loaded].filter((n): n is string => n !== undefined && FORBIDDEN.test(n));
  return [...new Set(names)].sort();
}

function readMetafiles(): { token: Metafile; lazy: Metafile } {
  if (!existsSync(METAFILE)) throw new Error(`${METAFILE} is missing: run \`npm run build\` first`);
  return JSON.parse(readFileSync(METAFILE, 'utf8'));
}

describe('the token bundle', () => {
  it('is the bundle the metafile describes', () => {
    const { token } = readMetafiles();
    const output = token.outputs[BUNDLE];
    expect(output, `the metafile has no ${BUNDLE}`).toBeDefined();
    // Same build: the bundle on disk has exactly the size the metafile records.
    expect(statSync(join(ROOT, BUNDLE)).size).toBe(output?.bytes);
    // And it is the real thing: the configuration and the vault's token path are in it.
    expect(Object.keys(output?.inputs ?? {})).toEqual(expect.arrayContaining(['dist/config.js']));
  });

  it('holds and loads none of zod, pino, Fastify, pg or undici', () => {
    const { token } = readMetafiles();
    const output = token.outputs[BUNDLE];
    if (!output) throw new Error(`the metafile has no ${BUNDLE}`);
    // Our own modules that import one, to name in the failure (the fix: import() it, as the lazy parts are).
    const culprits = Object.entries(token.inputs as Record<string, { imports: { path: string; kind: string }[] }>)
      .filter(([from]) => !from.includes('node_modules/'))
      .filter(([, input]) =>
        input.imports.some(
          (i) => i.kind !== 'dynamic-import' && i.path !== 'pg' && FORBIDDEN.test(packageOf(i.path) ?? i.path),
        ),
      )
      .map(([from]) => from);
    expect(forbiddenIn(output), `imported statically by ${culprits.join(', ')}`).toEqual([]);
    // Nor does any other output of that build (a chunk it would load).
    for (const [name, other] of Object.entries(token.outputs)) expect(forbiddenIn(other), name).toEqual([]);
  });

  it('names pg only in the PostgreSQL store, which it reaches only through import()', () => {
    const { token } = readMetafiles();
    const edges = Object.entries(token.inputs as Record<string, { imports: { path: string; kind: string }[] }>).flatMap(
      ([from, input]) => input.imports.map((i) => ({ from, ...i })),
    );
    expect(edges.filter((e) => packageNamed(e.path) === 'pg').map((e) => e.from)).toEqual([PG_STORE]);
    const toStore = edges.filter((e) => e.path === PG_STORE);
    expect(toStore.length).toBeGreaterThan(0);
    expect(toStore.filter((e) => e.kind !== 'dynamic-import')).toEqual([]);
  });

  it('reaches the full vault only through import(): a fresh cached token is read by the one-shot reader', () => {
    const { token } = readMetafiles();
    const edges = Object.entries(token.inputs as Record<string, { imports: { path: string; kind: string }[] }>).flatMap(
      ([from, input]) => input.imports.map((i) => ({ from, ...i })),
    );
    const toVault = edges.filter((e) => e.path === 'dist/vault/vault.js');
    expect(toVault.length).toBeGreaterThan(0);
    expect(toVault.filter((e) => e.kind !== 'dynamic-import')).toEqual([]);
    expect(edges.some((e) => e.path === 'dist/vault/token-reader.js' && e.kind !== 'dynamic-import')).toBe(true);
  });

  it('reaches its lazy parts, where zod and pino live, only through import()', () => {
    const { token, lazy } = readMetafiles();
    const lazyOutputs = Object.keys(lazy.outputs).filter((o) => o.endsWith('.js'));
    const imports = token.outputs[BUNDLE]?.imports ?? [];
    const toLazy = imports.filter((i) =>
      lazyOutputs.some((o) => join(ROOT, o) === join(ROOT, 'dist/cli/token', i.path)),
    );
    expect(toLazy.length).toBeGreaterThan(0);
    expect(toLazy.every((i) => i.kind === 'dynamic-import')).toBe(true);
    // The guard sees those packages where they are: it would catch them in the bundle.
    const inLazy = new Set(Object.values(lazy.outputs).flatMap(forbiddenIn));
    expect([...inLazy]).toEqual(expect.arrayContaining(['pino', 'zod']));
  });
});

describe('the bin', () => {
  it('carries the hot-token reader inline: a hit loads no file but the bin', () => {
    const bin = readFileSync(join(ROOT, 'dist/cli/webex-auth.cjs'), 'utf8');
    expect(bin).toContain('function readHotToken(');
    // The files it does require (the code-cache loader, the bundles) are off the hot path.
    const required = [...bin.matchAll(/\brequire(?:\.resolve)?\("(\.[^"]+)"\)/g)].map((m) => m[1] ?? '');
    expect(required).toContain('./token/token.cjs');
    expect(required.filter((file) => /hot-token|cache-dir/.test(file))).toEqual([]);
  });
});
