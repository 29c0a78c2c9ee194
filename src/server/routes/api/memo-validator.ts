/**
 * The validator of the broker's hot route: the routes' zod validator (fastify-type-provider-zod's, so the zod schema
 * stays the one rule and the OpenAPI document's source) behind a small bounded memo of the inputs it accepted. A bot
 * asks for the same connection with the same `min_validity` before every Webex call, so the token route's params and
 * query are nearly always an input already validated: the memo answers those with the value zod made then, and zod
 * runs only for a new input. Rejected inputs are never remembered, so a bad one is refused exactly as without the memo.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';

/** Inputs remembered per route part; the oldest is forgotten first. */
const MEMO_SIZE = 256;
/** Longer values are validated every time, so the memo stays small. */
const MAX_VALUE_LENGTH = 256;

/** What a validator answers (fastify-type-provider-zod): the parsed value, or the error. */
interface Result {
  value?: unknown;
  error?: FastifySchemaValidationError[] | Error;
}

/**
 * A Fastify validator compiler: fastify-type-provider-zod's, remembering the last {@link MEMO_SIZE} accepted inputs of
 * each route part (params, query) that are empty or hold one field, always the same one, whose value is a plain
 * string (the token route's `{id}` and `{min_validity}`); any other input (a repeated or an extra query parameter) is
 * validated every time. The answers handed out are frozen: the same object serves every request with that input.
 */
export const memoValidatorCompiler: FastifySchemaCompiler<unknown> = (route) => {
  const validate = validatorCompiler(route as Parameters<typeof validatorCompiler>[0]) as (data: unknown) => Result;
  /** The answer to an empty part (no query parameters). */
  let empty: Result | undefined;
  /** The one field name remembered, and its accepted values' answers. */
  let field: string | undefined;
  const memo = new Map<string, Result>();
  return (data: unknown) => {
    if (typeof data !== 'object' || data === null) return validate(data);
    let name: string | undefined;
    let count = 0;
    for (const key in data) {
      if (++count > 1) return validate(data);
      name = key;
    }
    if (name === undefined) {
      if (empty) return empty;
      const result = validate(data);
      empty = accepted(result);
      return empty ?? result;
    }
    const value = (data as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value.length > MAX_VALUE_LENGTH || (field !== undefined && name !== field)) {
      return validate(data);
    }
    const known = memo.get(value);
    if (known) return known;
    const result = validate(data);
    const answer = accepted(result);
    if (!answer) return result;
    field = name;
    if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value as string);
    memo.set(value, answer);
    return answer;
  };
};

/** A frozen copy of an accepted answer (its value frozen too), or `undefined` for a refusal. */
function accepted(result: Result): Result | undefined {
  if (result.error || typeof result.value !== 'object' || result.value === null) return undefined;
  return Object.freeze({ value: Object.freeze(result.value) });
}
