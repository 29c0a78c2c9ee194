/**
 * The user's cache directory of webex-auth and the ownership rule for what is read from it, shared by the V8 code
 * cache (code-cache.cts) and the hot-token file (hot-token.ts) of `webex-auth token`. scripts/build.mjs bundles it as
 * CommonJS (dist/cli/cache-dir.cjs for the code cache, and inside the hot-token reader the built bin carries).
 */
import type { Stats } from 'node:fs';
// Named, not default: esbuild then calls node:path directly instead of copying its exports on the token's hot path.
import { join } from 'node:path';

/** The cache directory of this user: `$XDG_CACHE_HOME/webex-auth`, else `~/.cache/webex-auth`; undefined without a home. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg?.startsWith('/')) return join(xdg, 'webex-auth');
  try {
    // HOME first, as os.homedir() does; node:os is loaded only without it (its start-up shows in `token`'s).
    const home = env.HOME || process.getBuiltinModule('node:os').homedir();
    return join(home, '.cache', 'webex-auth');
  } catch {
    return undefined;
  }
}

/** Whether a file or directory is this user's own and writable by no one else (always, where there are no uids). */
export function ownPrivate(stat: Stats): boolean {
  const uid = process.getuid?.();
  return uid === undefined || (stat.uid === uid && (stat.mode & 0o022) === 0);
}
