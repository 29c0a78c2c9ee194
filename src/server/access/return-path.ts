/**
 * Where a finished authorization may lead: a local path from a short allow-list of shapes, never another site. A form
 * sends `return_to` (the space demo sends `/space`); the callback redirects there instead of the connection page.
 * Stricter than the sign-in's `next` (views/signin.ts): one leading `/` followed by plain path segments of letters,
 * digits, `-` and `_` — so no `//host`, no `/\host`, no scheme, no `..`, no query, no percent-encoding that a browser
 * might turn into any of those.
 */

/** The longest return path accepted. */
export const MAX_RETURN_PATH = 200;

const SAFE_PATH = /^\/[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/;

/** `value` when it is an allowed local return path, else undefined. */
export function returnPath(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= MAX_RETURN_PATH && SAFE_PATH.test(value) ? value : undefined;
}
