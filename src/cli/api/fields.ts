/**
 * The parameters of `webex-auth api`, as `gh api` reads them: `-f key=value` (a string as given) and `-F key=value`
 * (typed: `true`, `false`, `null` and integers become JSON values, `@file` the file's text, `@-` standard input).
 * `key[]=v` appends to an array and `key[sub]=v` nests an object. They become the JSON body, or the query string of
 * a GET (`key[]=a&key[]=b`, `key[sub]=v`).
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { CliError, EXIT } from '../io.js';
import { terminalSafe } from '../ui/terminal-safe.js';

/** A JSON value a field can hold. */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };

/** The largest file or standard input read for `--input` or `-F key=@file` (Webex bodies are far smaller). */
export const MAX_INPUT_BYTES = 10 * 1024 * 1024;

/** Where files and standard input come from. */
export interface FieldSources {
  cwd: string;
  stdin: Readable;
}

/** `key`, then any number of `[sub]` or `[]`; the first part has no brackets. */
const KEY = /^([^[\]=]+)((?:\[[^[\]]*\])*)$/;

function usage(message: string, hint: string): CliError {
  return new CliError(message, EXIT.usage, hint);
}

/** A field argument for error messages: its key only (a value may be a secret), made safe for the terminal. */
function keyOf(arg: string): string {
  return terminalSafe(arg.split('=')[0] ?? '').slice(0, 60);
}

/** The key's path: `a[b][]` → `['a', 'b', '']` (`''` appends to an array). */
function keyPath(arg: string, flag: string): { path: string[]; value: string } {
  const eq = arg.indexOf('=');
  const m = eq > 0 ? KEY.exec(arg.slice(0, eq)) : null;
  if (!m) {
    throw usage(
      `${flag} "${keyOf(arg)}": expected key=value`,
      `Write ${flag} name=value (key[]=v for an array, key[sub]=v for an object).`,
    );
  }
  const subs = [...(m[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((s) => s[1] ?? '');
  if (subs.slice(0, -1).includes('')) {
    throw usage(`${flag} "${keyOf(arg)}": "[]" may only end a key`, 'Write key[]=value to append to an array.');
  }
  return { path: [m[1] as string, ...subs], value: arg.slice(eq + 1) };
}

/** Reads standard input whole (at most {@link MAX_INPUT_BYTES}). */
export async function readStdin(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_INPUT_BYTES) throw usage('standard input is larger than 10 MiB', 'Send a smaller body.');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `name` (relative to `cwd`), or standard input for `-`; at most {@link MAX_INPUT_BYTES}. */
export async function readSource(name: string, from: FieldSources, flag: string): Promise<string> {
  if (name === '-') return readStdin(from.stdin);
  const path = resolve(from.cwd, name);
  const shown = terminalSafe(name).slice(0, 200);
  try {
    if ((await stat(path)).size > MAX_INPUT_BYTES) {
      throw usage(`${flag}: ${shown} is larger than 10 MiB`, 'Send a smaller body.');
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : 'cannot be read';
    throw usage(`${flag}: ${shown}: ${why}`, 'Give a readable file, or - for standard input.');
  }
}

/** A `-F` value: `true`, `false`, `null`, an integer, `@file` / `@-`, else the string itself (as gh does). */
async function typedValue(raw: string, from: FieldSources): Promise<FieldValue> {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (/^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  if (raw.startsWith('@')) return readSource(raw.slice(1), from, '-F');
  return raw;
}

/** An object without a prototype: a key such as `__proto__` or `toString` is a plain key in it. */
function dictionary(): Record<string, FieldValue> {
  return Object.create(null) as Record<string, FieldValue>;
}

/** Sets `value` at `path` in `root`; a key used both as a value and as an object or array is a usage error. */
function place(root: Record<string, FieldValue>, path: string[], value: FieldValue, arg: string): void {
  let node: Record<string, FieldValue> | FieldValue[] = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as string;
    const last = i === path.length - 1;
    if (Array.isArray(node)) {
      // Only '' reaches an array (checked in keyPath): append.
      node.push(value);
      return;
    }
    const existing = Object.hasOwn(node, seg) ? node[seg] : undefined;
    if (last) {
      if (typeof existing === 'object' && existing !== null) break;
      node[seg] = value;
      return;
    }
    const wantArray = path[i + 1] === '';
    if (existing === undefined) node[seg] = wantArray ? [] : dictionary();
    const next: FieldValue | undefined = node[seg];
    if (next === null || typeof next !== 'object' || Array.isArray(next) !== wantArray) break;
    node = next;
  }
  throw usage(
    `the field "${keyOf(arg)}" clashes with another field of the same name`,
    'Give each key one kind of value: a value, key[]=… for an array, or key[sub]=… for an object.',
  );
}

/**
 * The parameters of `-f` (strings as given) and `-F` (typed) arguments, in the order given on the command line
 * (parseArgs keeps each flag's order; `-f` ones are placed first).
 */
export async function parseFields(
  raw: readonly string[],
  typed: readonly string[],
  from: FieldSources,
): Promise<Record<string, FieldValue>> {
  if (typed.filter((a) => a.slice(a.indexOf('=') + 1) === '@-').length > 1) {
    throw usage('standard input can be read once', 'Use @- in one -F field only.');
  }
  const params = dictionary();
  for (const arg of raw) {
    const { path, value } = keyPath(arg, '-f');
    place(params, path, value, arg);
  }
  for (const arg of typed) {
    const { path, value } = keyPath(arg, '-F');
    place(params, path, await typedValue(value, from), arg);
  }
  return params;
}

/** Appends `params` to `search` as gh does for a GET: `key=v`, `key[]=a&key[]=b`, `key[sub]=v`; null as empty. */
export function appendQuery(search: URLSearchParams, params: Record<string, FieldValue>, prefix = ''): void {
  for (const [k, v] of Object.entries(params)) {
    const name = prefix ? `${prefix}[${k}]` : k;
    if (Array.isArray(v)) {
      // `[]` only ends a key, so array items are never objects.
      for (const item of v) search.append(`${name}[]`, item === null ? '' : String(item));
    } else if (v !== null && typeof v === 'object') appendQuery(search, v, name);
    else search.append(name, v === null ? '' : String(v));
  }
}
