// `webex-auth serve` through the built bin, as package.json installs it: its start is one CommonJS bundle
// (dist/cli/serve/serve.cjs, scripts/build.mjs) read through a V8 code cache (src/cli/code-cache.cts). The first start
// writes the cache into the user's cache directory, the next uses it and leaves it alone, a damaged cache is replaced
// without the server noticing, and WEBEX_AUTH_CODE_CACHE=off writes none. The bundle is ASCII only (a one-byte string
// in V8: half the memory) and leaves the packages the start never runs to node_modules.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'webex-auth.cjs');
const BUNDLE = join(ROOT, 'dist', 'cli', 'serve', 'serve.cjs');

/** Starts `serve` in demo mode, checks /readyz and the home page, then stops it; resolves once it exited. */
async function serveOnce(env: Record<string, string | undefined>): Promise<{ home: string }> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
    env: env as NodeJS.ProcessEnv,
    cwd: env.HOME,
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const seen = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1].replace('localhost', '127.0.0.1'));
    };
    child.stdout?.on('data', seen);
    child.stderr?.on('data', seen);
    child.once('close', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
  try {
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const home = await (await fetch(`${url}/`)).text();
    return { home };
  } finally {
    child.kill('SIGINT');
    const code = await exited;
    expect(out).not.toMatch(/\n\s+at /);
    expect(code).toBe(0);
  }
}

/** The serve cache files in this home's cache directory. */
function caches(env: Record<string, string | undefined>): string[] {
  const dir = join(env.HOME as string, '.cache', 'webex-auth');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.startsWith('serve-'))
        .map((f) => join(dir, f))
    : [];
}

describe('the code cache of `webex-auth serve`', () => {
  beforeAll(() => {
    if (!existsSync(BUNDLE)) {
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    }
  });

  it('is written by the first start, used as is by the next, and replaced when damaged', async () => {
    const env = isolatedEnv();
    const first = await serveOnce(env);
    // The views' non-ASCII text (escaped in the bundle's source) reaches the page as a character reference (html.ts).
    expect(first.home).toContain('Demo mode &#8212; tokens come from the local Webex emulator');
    const [file, ...others] = caches(env);
    expect(others).toEqual([]);
    expect(file).toMatch(/serve-v\d+\.\d+\.\d+-[a-z0-9]+-[0-9a-f]{32}\.v8cache$/);
    const written = readFileSync(file as string);
    expect(written.length).toBeGreaterThan(100_000);

    await serveOnce(env);
    expect(caches(env)).toEqual([file]);
    expect(readFileSync(file as string).equals(written)).toBe(true);

    writeFileSync(file as string, 'not a code cache');
    await serveOnce(env);
    expect(readFileSync(file as string).length).toBeGreaterThan(100_000);
  });

  it('writes nothing with WEBEX_AUTH_CODE_CACHE=off', async () => {
    const env = isolatedEnv({ WEBEX_AUTH_CODE_CACHE: 'off' });
    await serveOnce(env);
    expect(caches(env)).toEqual([]);
  });

  it('runs the same command from the bin as from the CLI bundle: help, flags and errors', () => {
    // The bin hands `serve` to the serve bundle (src/cli/serve-main.ts), not to dist/cli/main.js; both run serve.ts.
    const env = isolatedEnv();
    const run = (entry: string, args: string[]) => {
      const r = spawnSync(process.execPath, [entry, 'serve', ...args], {
        env: env as NodeJS.ProcessEnv,
        encoding: 'utf8',
      });
      return [r.status, r.stdout, r.stderr];
    };
    const MAIN = join(ROOT, 'dist', 'cli', 'main.js');
    for (const args of [['--help'], ['--nope'], ['--port', 'x']]) expect(run(BIN, args)).toEqual(run(MAIN, args));
    expect(run(BIN, ['--help'])[1]).toContain('Usage: webex-auth serve [--port <port>] [--host <host>]');
    expect(run(BIN, ['--nope'])[0]).toBe(2);
  });

  it('is one ASCII-only bundle that leaves undici, swagger and markdown-it to node_modules', () => {
    const text = readFileSync(BUNDLE, 'latin1');
    // Its last line is the SHA-256 of the text before it, which names the code cache (src/cli/code-cache.cts).
    const [, above, digest] = /^([\s\S]*)\n\/\/ SHA-256 of the text above: ([0-9a-f]{64})\n$/.exec(text) ?? [];
    expect(digest).toBe(
      createHash('sha256')
        .update(above ?? '')
        .digest('hex'),
    );
    expect(/[^\x00-\x7f]/.exec(text)?.index).toBeUndefined();
    for (const name of ['undici', '@fastify/swagger', 'markdown-it']) {
      // esbuild heads each bundled module with a `// node_modules/<package>/…` comment.
      expect(text).not.toContain(`// node_modules/${name}/`);
      expect(text).toContain(`_waImp("${name}")`);
    }
  });
});
