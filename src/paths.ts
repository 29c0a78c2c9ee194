/**
 * Where the files that ship beside the code live (package.json, SQL migrations, the web app's static files), found
 * the same way whether this module runs from `src/` (tests), `dist/` (the library, built by tsc) or a chunk of the
 * bundled bin (`dist/cli/chunks/`): by walking up from this module to the package root.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`webex-auth: no package.json above ${from}`);
  }
}

/** The package root: the folder of webex-auth's package.json. */
export const PACKAGE_ROOT: string = packageRoot(dirname(here));

/** The code tree the assets sit in: `src/` when running the TypeScript sources, else `dist/`. */
export const CODE_ROOT: string = join(PACKAGE_ROOT, here.endsWith('.ts') ? 'src' : 'dist');
