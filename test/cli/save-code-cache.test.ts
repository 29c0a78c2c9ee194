/**
 * serve's code cache is written after the server answered one `/readyz` of its own when this start writes it (so the
 * cache holds the request path's functions), and at once, with no request, when a cache was loaded or over https.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCodeCache } from '../../src/cli/commands/serve-parts.js';

describe('saveCodeCache', () => {
  const asked: string[] = [];
  let server: Server;
  let url: string;
  let port: number;
  beforeAll(async () => {
    server = createServer((request, response) => {
      asked.push(`${request.url} ${request.headers.host}`);
      response.end('{"status":"ready"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const saved = (stale: boolean, at: string) =>
    new Promise<string[]>((resolve) => saveCodeCache({ stale, save: () => resolve([...asked]) }, at));

  it('asks /readyz first when it writes a new cache', async () => {
    asked.length = 0;
    expect(await saved(true, url)).toEqual([`/readyz localhost:${port}`]);
  });

  it('names the server localhost, which every mode allows, and reaches a wildcard address over loopback', async () => {
    asked.length = 0;
    expect(await saved(true, `http://0.0.0.0:${port}`)).toEqual([`/readyz localhost:${port}`]);
  });

  it('asks nothing when the cache was loaded, or over https', async () => {
    asked.length = 0;
    expect(await saved(false, url)).toEqual([]);
    expect(await saved(true, url.replace('http:', 'https:'))).toEqual([]);
  });

  it('still writes when the server cannot be reached', async () => {
    asked.length = 0;
    expect(await saved(true, 'http://127.0.0.1:1')).toEqual([]);
  });
});
