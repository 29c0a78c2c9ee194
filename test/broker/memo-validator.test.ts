/**
 * The token route's memo of validated inputs (memo-validator.ts) answers exactly as the zod validator it stands in
 * front of: the same values for good inputs, the same refusals for bad ones however often they come, and never a
 * remembered answer for an input it refused.
 */
import { validatorCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { memoValidatorCompiler } from '../../src/server/routes/api/memo-validator.js';
import { connectionIdParams, tokenQuery } from '../../src/server/routes/api/schemas.js';

type Validate = (data: unknown) => { value?: unknown; error?: unknown };

function compile(schema: unknown, httpPart: string): { memo: Validate; plain: Validate } {
  const route = { schema, method: 'GET', url: '/api/v1/connections/:id/token', httpPart } as never;
  return { memo: memoValidatorCompiler(route) as Validate, plain: validatorCompiler(route) as Validate };
}

/** The same verdict and value as the plain zod validator, on the first and on a repeated call. */
function expectSame(memo: Validate, plain: Validate, input: unknown): void {
  const expected = plain(input);
  for (let i = 0; i < 3; i++) {
    const got = memo(input);
    expect(Boolean(got.error), JSON.stringify(input)).toBe(Boolean(expected.error));
    expect(got.value).toEqual(expected.value);
  }
}

describe('the memo validator of the token route', () => {
  it('answers min_validity as zod does: defaults, bounds, junk, repeats', () => {
    const { memo, plain } = compile(tokenQuery, 'querystring');
    const inputs: unknown[] = [
      {},
      { min_validity: '0' },
      { min_validity: '60' },
      { min_validity: '86400' },
      { min_validity: '86401' },
      { min_validity: '-1' },
      { min_validity: '1.5' },
      { min_validity: 'abc' },
      { min_validity: '' },
      { min_validity: ['1', '2'] },
      { min_validity: '30', other: 'x' },
      { other: '5' },
      { min_validity: 'x'.repeat(300) },
      { min_validity: '30', other: 'y'.repeat(1000) },
      null,
    ];
    for (const input of inputs) expectSame(memo, plain, input);
    expect(memo({ min_validity: '86401' }).error).toBeTruthy();
    expect(memo({}).value).toEqual({ min_validity: 60 });
  });

  it('hands out one frozen value per remembered input', () => {
    const { memo } = compile(tokenQuery, 'querystring');
    const first = memo({ min_validity: '120' }).value;
    expect(first).toEqual({ min_validity: 120 });
    expect(memo({ min_validity: '120' }).value).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('stays right past its bound: many ids, then bad ones, then the first again', () => {
    const { memo, plain } = compile(connectionIdParams, 'params');
    for (let i = 0; i < 600; i++) expectSame(memo, plain, { id: `conn_${i}` });
    for (const id of ['', 'a/b', 'a b', 'x'.repeat(101), 'é', '../token']) expectSame(memo, plain, { id });
    expectSame(memo, plain, { id: 'conn_0' });
    expect(memo({ id: 'a/b' }).error).toBeTruthy();
  });
});
