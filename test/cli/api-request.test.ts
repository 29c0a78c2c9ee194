// The pure parts of `webex-auth api`: fields as gh reads them, the query of a GET, the endpoint under the API base.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { appendQuery, parseFields } from '../../src/cli/api/fields.js';
import { endpointPath, parseHeaders } from '../../src/cli/api/request.js';
import { mergePages } from '../../src/cli/api/response.js';

const from = (stdin = '') => {
  const s = new PassThrough();
  s.end(stdin);
  return { cwd: '/', stdin: s };
};

describe('fields', () => {
  it('-f keeps strings; -F types true/false/null/integers and reads @- from standard input', async () => {
    const params = await parseFields(
      ['title=42', 'empty='],
      ['max=10', 'neg=-3', 'on=true', 'off=false', 'none=null', 'big=12345678901234567890', 'float=1.5', 'body=@-'],
      from('from stdin'),
    );
    expect({ ...params }).toEqual({
      title: '42',
      empty: '',
      max: 10,
      neg: -3,
      on: true,
      off: false,
      none: null,
      big: '12345678901234567890',
      float: '1.5',
      body: 'from stdin',
    });
  });

  it('key[] appends, key[sub] nests; __proto__ is a plain key and pollutes nothing', async () => {
    const params = await parseFields(['a[]=1', 'a[]=2', 'o[x]=1', 'o[y][]=z', '__proto__[polluted]=yes'], [], from());
    expect(JSON.parse(JSON.stringify(params))).toEqual({
      a: ['1', '2'],
      o: { x: '1', y: ['z'] },
      ['__proto__']: { polluted: 'yes' },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const search = new URLSearchParams();
    appendQuery(search, params);
    expect(search.getAll('a[]')).toEqual(['1', '2']);
    expect(search.get('o[x]')).toBe('1');
    expect(search.getAll('o[y][]')).toEqual(['z']);
  });

  it('refuses malformed fields, clashes and a second read of standard input', async () => {
    await expect(parseFields(['=x'], [], from())).rejects.toThrow(/expected key=value/);
    await expect(parseFields(['a[]x=1'], [], from())).rejects.toThrow(/expected key=value/);
    await expect(parseFields(['a[][b]=1'], [], from())).rejects.toThrow(/may only end a key/);
    await expect(parseFields(['a[b]=1', 'a[]=2'], [], from())).rejects.toThrow(/clashes/);
    await expect(parseFields([], ['a=@-', 'b=@-'], from())).rejects.toThrow(/standard input can be read once/);
    await expect(parseFields([], ['a=@/no/such/file'], from())).rejects.toThrow(/no such file/);
  });
});

describe('endpointPath', () => {
  const base = 'https://webexapis.com/v1';
  it('reads relative paths, a repeated base path and full URLs under the base', () => {
    expect(endpointPath('people/me', base)).toBe('/people/me');
    expect(endpointPath('/rooms', base)).toBe('/rooms');
    expect(endpointPath('rooms?max=2', base)).toBe('/rooms?max=2');
    expect(endpointPath('/v1/rooms?max=2#x', base)).toBe('/rooms?max=2');
    expect(endpointPath('https://webexapis.com/v1/people/me?x=1', base)).toBe('/people/me?x=1');
    expect(endpointPath('HTTPS://WEBEXAPIS.COM/v1/people', `${base}/`)).toBe('/people');
  });
  it('refuses anything that leaves the base', () => {
    for (const e of [
      'http://webexapis.com/v1/people/me',
      'https://webexapis.com.evil.example/v1/people/me',
      'https://webexapis.com:8443/v1/people/me',
      'https://webexapis.com/v2/people',
      'https://webexapis.com/v10/people',
      '//evil.example/v1/x',
      '../x',
      '/%2e%2e/x',
      'javascript:alert(1)',
      'people\\me',
      'people/me\nHost: x',
      '',
    ]) {
      expect(() => endpointPath(e, base), JSON.stringify(e)).toThrow();
    }
  });
});

describe('headers and pages', () => {
  it('parses Name: value and refuses Authorization without echoing its value', () => {
    expect(parseHeaders(['Accept: text/plain', 'X-A:b: c'])).toEqual({ accept: 'text/plain', 'x-a': 'b: c' });
    expect(() => parseHeaders(['authorization: Bearer SECRET'])).toThrow(/cannot set Authorization/);
    let refused: unknown;
    try {
      parseHeaders(['X-Bad: a\rb SECRET']);
    } catch (error) {
      refused = error;
    }
    expect(String(refused)).toMatch(/-H "X-Bad": expected 'Name: value' on one line/);
    expect(String(refused)).not.toContain('SECRET');
  });
  it('merges Webex lists and JSON arrays; leaves other bodies alone', () => {
    expect(mergePages([{ items: [1] }, { items: [2, 3] }])).toEqual({ items: [1, 2, 3] });
    expect(mergePages([[1], [2]])).toEqual([1, 2]);
    expect(mergePages([{ a: 1 }, { a: 2 }])).toBeUndefined();
  });
});
