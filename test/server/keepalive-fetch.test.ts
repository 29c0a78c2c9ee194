/**
 * The server's keep-alive fetch (src/oauth/keepalive-fetch.ts) against real loopback servers: the same answers as
 * the global fetch for what our clients send, sockets reused, redirects never followed, aborts and failures reported
 * as fetch reports them, oversized answers refused, and everything else handed to the global fetch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKeepAliveFetch, type KeepAliveFetch } from '../../src/oauth/keepalive-fetch.js';
import { selfSignedCertificate } from '../../src/server/https.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let handler: Handler;
let server: Server;
let base: string;
const sockets = new Set<number>();
let f: KeepAliveFetch;

beforeAll(async () => {
  server = createServer((req, res) => {
    sockets.add(req.socket.remotePort ?? 0);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => handler(req, body, res));
  });
  // Never closes an idle keep-alive socket itself: closing them is then the client's doing.
  server.keepAliveTimeout = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  f = createKeepAliveFetch();
});
afterEach(() => sockets.clear());
afterAll(async () => {
  f.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('keep-alive fetch', () => {
  it('posts a form with its length and reads the JSON answer, status and headers', async () => {
    let seen: { method?: string; length?: string; type?: string; body?: string } = {};
    handler = (req, body, res) => {
      seen = { method: req.method, length: req.headers['content-length'], type: req.headers['content-type'], body };
      res.writeHead(200, { 'content-type': 'application/json', trackingid: 'T-1' });
      res.end(JSON.stringify({ access_token: 'a', expires_in: 10 }));
    };
    const form = new URLSearchParams({ grant_type: 'authorization_code', code: 'c é' });
    const r = await f(`${base}/v1/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      redirect: 'manual',
    });
    expect(seen).toEqual({
      method: 'POST',
      length: String(Buffer.byteLength(form.toString())),
      type: 'application/x-www-form-urlencoded',
      body: form.toString(),
    });
    expect(r.ok).toBe(true);
    expect(r.status).toBe(200);
    expect(r.headers.get('trackingid')).toBe('T-1');
    expect(await r.json()).toEqual({ access_token: 'a', expires_in: 10 });
    await expect(r.text()).rejects.toThrow(TypeError);
  });

  it('reuses one socket for calls in sequence', async () => {
    handler = (_req, _body, res) => res.end('{}');
    for (let i = 0; i < 5; i++) await (await f(`${base}/v1/people/me`, { redirect: 'manual' })).text();
    expect(sockets.size).toBe(1);
  });

  it('answers error statuses with their body, and never follows a redirect', async () => {
    handler = (req, _body, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/elsewhere' });
        res.end();
        return;
      }
      res.writeHead(429, { 'retry-after': '3', 'content-type': 'text/html' });
      res.end('<html>slow down</html>');
    };
    const moved = await f(`${base}/moved`, { redirect: 'manual' });
    expect(moved.status).toBe(302);
    expect(moved.headers.get('location')).toBe('/elsewhere');
    expect(moved.body).toBeNull();
    const limited = await f(new URL(`${base}/v1/people/me`), {
      headers: new Headers({ authorization: 'Bearer x' }),
      redirect: 'manual',
    });
    expect(limited.ok).toBe(false);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    await limited.body?.cancel();
  });

  it('hands a request that follows redirects to the global fetch', async () => {
    handler = (req, _body, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/here' });
        res.end();
        return;
      }
      res.end('arrived');
    };
    const r = await f(`${base}/moved`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('arrived');
  });

  it('reports a refused connection as fetch does, and an abort with the signal’s reason', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(f(`http://127.0.0.1:${port}/`, { redirect: 'manual' })).rejects.toThrow('fetch failed');

    handler = () => {
      // never answers
    };
    const controller = new AbortController();
    const pending = f(`${base}/slow`, { redirect: 'manual', signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(pending).rejects.toThrow('gave up');
    const already = AbortSignal.abort(new Error('before'));
    await expect(f(`${base}/x`, { redirect: 'manual', signal: already })).rejects.toThrow('before');
  });

  it('refuses an answer body over the limit', async () => {
    const small = createKeepAliveFetch({ maxBodyBytes: 1000 });
    try {
      handler = (_req, _body, res) => res.end('x'.repeat(5000));
      await expect(small(`${base}/big`, { redirect: 'manual' })).rejects.toThrow('fetch failed');
      handler = (_req, _body, res) => res.end('x'.repeat(1000));
      expect((await (await small(`${base}/ok`, { redirect: 'manual' })).text()).length).toBe(1000);
    } finally {
      small.close();
    }
  });

  it('closes a kept-alive socket left unused longer than its free-socket timeout', async () => {
    const brief = createKeepAliveFetch({ freeSocketTimeoutMs: 100 });
    try {
      let closed: Promise<void> | undefined;
      handler = (req, _body, res) => {
        closed = new Promise((resolve) => req.socket.once('close', () => resolve()));
        res.end('ok');
      };
      expect(await (await brief(`${base}/idle`, { redirect: 'manual' })).text()).toBe('ok');
      // This server never closes idle sockets (keepAliveTimeout 0): the client side does.
      await closed;
    } finally {
      brief.close();
    }
  });

  it('checks https certificates as fetch does: a self-signed one is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keepalive-fetch-'));
    const tls = selfSignedCertificate(dir);
    const secure = createHttpsServer({ key: tls.key, cert: tls.cert }, (_req, res) => res.end('secret'));
    await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
    try {
      const url = `https://localhost:${(secure.address() as AddressInfo).port}/v1/access_token`;
      const refused = await f(url, { method: 'POST', body: 'x=1', redirect: 'manual' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TypeError);
      expect(String((refused as TypeError).cause)).toMatch(/self[- ]signed/i);
    } finally {
      secure.closeAllConnections();
      await new Promise((r) => secure.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('retries a GET once on a fresh socket when the server dropped the idle one', async () => {
    handler = (_req, _body, res) => res.end('one');
    expect(await (await f(`${base}/a`, { redirect: 'manual' })).text()).toBe('one');
    // The server drops every idle keep-alive socket; the next GET finds its pooled socket closed.
    server.closeIdleConnections();
    handler = (_req, _body, res) => res.end('two');
    expect(await (await f(`${base}/b`, { redirect: 'manual' })).text()).toBe('two');
  });
});
