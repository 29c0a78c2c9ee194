/**
 * The server's one transport (src/transport/) against real loopback servers: its `fetch` gives real `Response`s with
 * the same status, headers and body as the global fetch for what our clients send, reuses connections, never follows a
 * redirect, reports aborts and failures as fetch does, refuses oversized answers and odd statuses, sends a POST once
 * even on a dropped connection, and shares its undici Agent with the proxy (`dispatcher()`).
 */
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { responseHeader } from '../../src/oauth/http.js';
import { selfSignedCertificate } from '../../src/server/https.js';
import { createTransport, type Transport } from '../../src/transport/index.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let handler: Handler;
let server: Server;
let base: string;
const sockets = new Set<number>();
let t: Transport;

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
  t = createTransport();
});
afterEach(() => sockets.clear());
afterAll(async () => {
  await t.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** A server writing `reply` raw on every connection (for answers node:http will not write). */
async function rawServer(reply: string): Promise<{ url: string; close: () => Promise<void> }> {
  const open = new Set<Socket>();
  const raw = createNetServer((socket) => {
    open.add(socket);
    socket.once('data', () => socket.end(reply));
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise((r) => raw.close(r));
    },
  };
}

describe('transport fetch', () => {
  it('posts a form with its length and reads the JSON answer into a real Response', async () => {
    let seen: { method?: string; length?: string; type?: string; body?: string } = {};
    handler = (req, body, res) => {
      seen = { method: req.method, length: req.headers['content-length'], type: req.headers['content-type'], body };
      res.writeHead(200, 'Fine', { 'content-type': 'application/json', trackingid: 'T-1' });
      res.end(JSON.stringify({ access_token: 'a', expires_in: 10 }));
    };
    const form = new URLSearchParams({ grant_type: 'authorization_code', code: 'c é' });
    const r = await t.fetch(`${base}/v1/access_token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
      redirect: 'manual',
    });
    expect(seen).toEqual({
      method: 'POST',
      length: String(Buffer.byteLength(form.toString())),
      type: 'application/x-www-form-urlencoded',
      body: form.toString(),
    });
    expect(r).toBeInstanceOf(Response);
    expect(r.ok).toBe(true);
    expect(r.status).toBe(200);
    expect(r.statusText).toBe('Fine');
    expect(r.headers.get('trackingid')).toBe('T-1');
    expect(await r.json()).toEqual({ access_token: 'a', expires_in: 10 });
    await expect(r.text()).rejects.toThrow(TypeError);
  });

  it('reads its body once, as a Response does, by any body method, as a stream, or through a clone', async () => {
    const json = '{"id":"Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x","emails":["é@example.com"]}';
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(json);
    };
    const get = () => t.fetch(`${base}/v1/people/me`, { redirect: 'manual' });
    const r = await get();
    expect(r.bodyUsed).toBe(false);
    const copy = r.clone();
    expect(await r.json()).toEqual({ id: 'Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x', emails: ['é@example.com'] });
    expect(r.bodyUsed).toBe(true);
    await expect(r.text()).rejects.toThrow(TypeError);
    expect(() => r.clone()).toThrow(TypeError);
    expect(new TextDecoder().decode(await copy.arrayBuffer())).toContain('é@example.com');
    const streamed = await get();
    expect(await new Response(streamed.body).text()).toContain('"emails"');
    expect(streamed.bodyUsed).toBe(true);
    const blob = await (await get()).blob();
    expect(blob.type).toBe('application/json');
    expect(Buffer.from(await (await get()).bytes()).toString('utf8')).toBe(json);
  });

  it('gives a form or text body fetch’s content type when the caller sets none, and repeated headers', async () => {
    const types: (string | undefined)[] = [];
    handler = (req, _body, res) => {
      types.push(req.headers['content-type']);
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('ok');
    };
    const form = await t.fetch(base, { method: 'POST', body: new URLSearchParams({ a: '1' }), redirect: 'manual' });
    await t.fetch(base, { method: 'POST', body: 'x', redirect: 'manual' });
    expect(types).toEqual(['application/x-www-form-urlencoded;charset=UTF-8', 'text/plain;charset=UTF-8']);
    expect(form.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('reads one header, before or after its Headers are made, as headers.get gives it', async () => {
    handler = (_req, _body, res) => {
      res.setHeader('x-twice', ['one', 'two']);
      res.setHeader('TrackingID', 'ROUTER_1');
      res.end('ok');
    };
    const r = await t.fetch(base, { redirect: 'manual' });
    const read = (name: string) => responseHeader(r, name);
    const before = ['trackingid', 'TrackingID', 'x-twice', 'x-none'].map(read);
    expect(before).toEqual(['ROUTER_1', 'ROUTER_1', 'one, two', null]);
    expect(['trackingid', 'TrackingID', 'x-twice', 'x-none'].map((n) => r.headers.get(n))).toEqual(before);
    expect(['trackingid', 'TrackingID', 'x-twice', 'x-none'].map(read)).toEqual(before);
    // Any other Response is read through its headers.
    expect(responseHeader(new Response('x', { headers: { TrackingID: 'ROUTER_2' } }), 'trackingid')).toBe('ROUTER_2');
  });

  it('keeps its connections alive, and shares its Agent with dispatcher()', async () => {
    // One connection per origin, so that reuse is visible (with more, undici's pool may open a second one).
    const single = createTransport({ connections: 1 });
    try {
      handler = (_req, _body, res) => res.end('{}');
      for (let i = 0; i < 5; i++) await (await single.fetch(`${base}/v1/people/me`, { redirect: 'manual' })).text();
      const answer = await (await single.dispatcher()).request({ origin: base, path: '/v1/rooms', method: 'GET' });
      await answer.body.dump();
      expect(sockets.size).toBe(1);
    } finally {
      await single.close();
    }
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
    const moved = await t.fetch(`${base}/moved`, { redirect: 'manual' });
    expect(moved.status).toBe(302);
    expect(moved.headers.get('location')).toBe('/elsewhere');
    expect(await moved.text()).toBe('');
    const limited = await t.fetch(new URL(`${base}/v1/people/me`), {
      headers: new Headers({ authorization: 'Bearer x' }),
      redirect: 'manual',
    });
    expect(limited.ok).toBe(false);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.text()).toBe('<html>slow down</html>');
  });

  it('gives null-body statuses and HEAD answers no body', async () => {
    handler = (req, _body, res) => {
      res.writeHead(Number(req.url?.slice(1)), { etag: '"e"' });
      res.end();
    };
    for (const status of [204, 205, 304]) {
      const r = await t.fetch(`${base}/${status}`, { redirect: 'manual' });
      expect(r.status).toBe(status);
      expect(r.body).toBeNull();
      expect(r.headers.get('etag')).toBe('"e"');
    }
    const head = await t.fetch(`${base}/200`, { method: 'HEAD', redirect: 'manual' });
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it('reports a final status Response cannot hold (1xx, 600 and over) as a network failure', async () => {
    for (const line of ['HTTP/1.1 101 Switching Protocols', 'HTTP/1.1 600 Odd']) {
      const raw = await rawServer(`${line}\r\ncontent-length: 0\r\n\r\n`);
      try {
        await expect(t.fetch(raw.url, { redirect: 'manual' })).rejects.toThrow('fetch failed');
      } finally {
        await raw.close();
      }
    }
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
    const r = await t.fetch(`${base}/moved`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('arrived');
  });

  it('reports a refused connection as fetch does, and an abort with the signal’s reason', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(t.fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' })).rejects.toThrow('fetch failed');

    handler = () => {
      // never answers
    };
    const controller = new AbortController();
    const pending = t.fetch(`${base}/slow`, { redirect: 'manual', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('gave up')), 20);
    await expect(pending).rejects.toThrow('gave up');
    const already = AbortSignal.abort(new Error('before'));
    await expect(t.fetch(`${base}/x`, { redirect: 'manual', signal: already })).rejects.toThrow('before');

    // Aborted while the body arrives: the headers came, the rest never does.
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    };
    const midBody = new AbortController();
    const cut = t.fetch(`${base}/half`, { redirect: 'manual', signal: midBody.signal });
    setTimeout(() => midBody.abort(new Error('cut off')), 50);
    await expect(cut).rejects.toThrow('cut off');
  });

  it('refuses an answer body over the limit, by length or as it streams', async () => {
    const small = createTransport({ maxBodyBytes: 1000 });
    try {
      handler = (_req, _body, res) => res.end('x'.repeat(5000));
      await expect(small.fetch(`${base}/big`, { redirect: 'manual' })).rejects.toThrow('fetch failed');
      handler = (_req, _body, res) => {
        for (let i = 0; i < 5; i++) res.write('x'.repeat(500));
        res.end();
      };
      const chunked = await small.fetch(`${base}/chunked`, { redirect: 'manual' }).catch((e: unknown) => e);
      expect(chunked).toBeInstanceOf(TypeError);
      expect(String((chunked as TypeError).cause)).toMatch(/over 1000 bytes/);
      handler = (_req, _body, res) => res.end('x'.repeat(1000));
      expect((await (await small.fetch(`${base}/ok`, { redirect: 'manual' })).text()).length).toBe(1000);
    } finally {
      await small.close();
    }
  });

  it('aborts the request (its connection closes) as soon as a streamed answer passes the limit', async () => {
    const small = createTransport({ maxBodyBytes: 1000 });
    try {
      let closed: Promise<void> | undefined;
      handler = (req, _body, res) => {
        closed = new Promise((resolve) => req.socket.once('close', () => resolve()));
        // Passes the limit, then never ends: only the client's abort ends the exchange.
        for (let i = 0; i < 3; i++) res.write('x'.repeat(500));
      };
      const failed = await small.fetch(`${base}/endless`, { redirect: 'manual' }).catch((e: unknown) => e);
      expect(String((failed as TypeError).cause)).toMatch(/over 1000 bytes/);
      await closed;
    } finally {
      await small.close();
    }
  });

  it('rejects an abort at once while the request waits for a connection, and never sends it', async () => {
    const one = createTransport({ connections: 1 });
    try {
      const paths: string[] = [];
      let release: (() => void) | undefined;
      handler = (req, _body, res) => {
        paths.push(req.url ?? '');
        if (req.url === '/busy') release = () => res.end('done');
        else res.end('ok');
      };
      const busy = one.fetch(`${base}/busy`, { redirect: 'manual' });
      await vi.waitFor(() => expect(release).toBeDefined());
      const controller = new AbortController();
      const queued = one.fetch(`${base}/queued`, { redirect: 'manual', signal: controller.signal });
      controller.abort(new Error('not waiting'));
      await expect(queued).rejects.toThrow('not waiting');
      release?.();
      expect(await (await busy).text()).toBe('done');
      expect(await (await one.fetch(`${base}/next`, { redirect: 'manual' })).text()).toBe('ok');
      expect(paths).toEqual(['/busy', '/next']);
    } finally {
      await one.close();
    }
  });

  it('leaves no listener on the caller’s signal once a call ends, answered or failed', async () => {
    const signal = new AbortController().signal;
    handler = (_req, _body, res) => res.end('ok');
    for (let i = 0; i < 20; i++) await (await t.fetch(`${base}/${i}`, { redirect: 'manual', signal })).text();
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const small = createTransport({ maxBodyBytes: 1 });
    try {
      await expect(small.fetch(`${base}/big`, { redirect: 'manual', signal })).rejects.toThrow('fetch failed');
    } finally {
      await small.close();
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('waits past an informational answer (103) for the final one', async () => {
    const raw = await rawServer(
      'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-final: 1\r\n\r\nok',
    );
    try {
      const r = await t.fetch(raw.url, { redirect: 'manual' });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-final')).toBe('1');
      expect(r.headers.get('link')).toBeNull();
      expect(await r.text()).toBe('ok');
    } finally {
      await raw.close();
    }
  });

  it('closes a kept-alive connection left unused longer than keepAliveMs', async () => {
    const brief = createTransport({ keepAliveMs: 100 });
    try {
      let closed: Promise<void> | undefined;
      handler = (req, _body, res) => {
        closed = new Promise((resolve) => req.socket.once('close', () => resolve()));
        res.end('ok');
      };
      expect(await (await brief.fetch(`${base}/idle`, { redirect: 'manual' })).text()).toBe('ok');
      // This server never closes idle sockets (keepAliveTimeout 0): the client side does.
      await closed;
    } finally {
      await brief.close();
    }
  });

  it('checks https certificates as fetch does: a self-signed one is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'transport-'));
    const tls = selfSignedCertificate(dir);
    const secure = createHttpsServer({ key: tls.key, cert: tls.cert }, (_req, res) => res.end('secret'));
    await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
    try {
      const url = `https://localhost:${(secure.address() as AddressInfo).port}/v1/access_token`;
      const refused = await t.fetch(url, { method: 'POST', body: 'x=1', redirect: 'manual' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TypeError);
      expect(String((refused as TypeError).cause)).toMatch(/self[- ]signed/i);
    } finally {
      secure.closeAllConnections();
      await new Promise((r) => secure.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('a kept-alive connection the server drops as it is reused', () => {
    /** Requests the server saw, by method. */
    let seen: string[] = [];
    let armed = false;
    /** Once armed, the first request arriving on a connection that served one before has its socket destroyed. */
    const dropReused: Handler = (req, _body, res) => {
      seen.push(req.method ?? '');
      const socket = req.socket as Socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      if (armed && socket.served > 1) {
        armed = false;
        socket.destroy();
      } else res.end('answered');
    };

    /** A transport of one connection (so the next call reuses it) that has served one call; the drop armed. */
    async function reusedConnection(): Promise<Transport> {
      const own = createTransport({ connections: 1 });
      handler = dropReused;
      expect(await (await own.fetch(`${base}/a`, { redirect: 'manual' })).text()).toBe('answered');
      seen = [];
      armed = true;
      return own;
    }

    it('sends a GET again, once, on a fresh connection', async () => {
      const own = await reusedConnection();
      try {
        expect(await (await own.fetch(`${base}/b`, { redirect: 'manual' })).text()).toBe('answered');
        expect(seen).toEqual(['GET', 'GET']);
      } finally {
        await own.close();
      }
    });

    it('never sends a GET again once its answer began: the server did answer it', async () => {
      const own = createTransport();
      try {
        let calls = 0;
        handler = (req, _body, res) => {
          calls++;
          res.writeHead(200, { 'content-length': '100' });
          res.write('partial', () => req.socket.destroy());
        };
        await expect(own.fetch(`${base}/cut`, { redirect: 'manual' })).rejects.toThrow('fetch failed');
        expect(calls).toBe(1);
      } finally {
        await own.close();
      }
    });

    it('never sends a POST twice: a code exchange is answered once', async () => {
      const own = await reusedConnection();
      try {
        const failed = own.fetch(`${base}/v1/access_token`, { method: 'POST', body: 'code=c', redirect: 'manual' });
        await expect(failed).rejects.toThrow('fetch failed');
        expect(seen).toEqual(['POST']);
      } finally {
        await own.close();
      }
    });
  });
});
