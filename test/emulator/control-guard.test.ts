/**
 * Issue 16 row 9: `/_emulator` answered any Origin and form posts, so any web page could inject faults. Now the control
 * API sends no CORS headers, refuses foreign origins (403) and takes JSON bodies only (415); `/v1` keeps its CORS.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control, type Emu, start } from './helpers.js';

let emu: Emu;
beforeAll(async () => {
  emu = await start();
});
afterAll(() => emu.close());

const EVIL = 'https://evil.example';
const FAULT = { endpoint: 'rest', status: 503 };

async function faults(): Promise<unknown[]> {
  return (await control(emu, 'faults', undefined, 'GET')).body.faults;
}

function corsHeaders(r: Response): Record<string, string | null> {
  return {
    allowOrigin: r.headers.get('access-control-allow-origin'),
    allowMethods: r.headers.get('access-control-allow-methods'),
    expose: r.headers.get('access-control-expose-headers'),
  };
}
const NO_CORS = { allowOrigin: null, allowMethods: null, expose: null };

describe('control API: no CORS, own origin only, JSON only', () => {
  it('a cross-origin form post (what any web page can send) is refused and injects nothing', async () => {
    const r = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      headers: { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' },
      // Every field a string: what a <form> can post, and what the old control API accepted.
      body: 'endpoint=token&error=invalid_grant',
    });
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(corsHeaders(r)).toEqual(NO_CORS);
    expect(await faults()).toEqual([]);
  });

  it('a foreign Origin is refused for JSON too, for reads, and for preflights — with no CORS headers', async () => {
    const post = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      headers: { origin: EVIL, 'content-type': 'application/json' },
      body: JSON.stringify(FAULT),
    });
    const read = await fetch(`${emu.url}/_emulator/stats`, { headers: { origin: 'null' } });
    const preflight = await fetch(`${emu.url}/_emulator/reset`, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'POST' },
    });
    for (const r of [post, read, preflight]) {
      expect(r.status).toBe(403);
      expect(corsHeaders(r)).toEqual(NO_CORS);
    }
    expect(await post.json()).toMatchObject({ message: expect.stringContaining('other origins') });
    expect(await faults()).toEqual([]);
  });

  it('non-JSON bodies are 415 even without an Origin (form, text/plain, no type)', async () => {
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'endpoint=rest&status=503'],
      ['text/plain', JSON.stringify(FAULT)],
      ['multipart/form-data; boundary=x', '--x--'],
    ] as const) {
      const r = await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', headers: { 'content-type': type }, body });
      expect([type, r.status]).toEqual([type, 415]);
    }
    // A body with no content type at all (an empty-typed form post reset).
    const untyped = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${emu.url}/_emulator/reset`);
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('x=1');
    });
    expect(untyped).toBe(415);
    expect(await faults()).toEqual([]);
  });

  it("the emulator's own origin, and tools without an Origin, still drive it with JSON", async () => {
    const own = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      headers: { origin: emu.url, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ ...FAULT, count: 1 }),
    });
    expect(own.status).toBe(200);
    expect(corsHeaders(own)).toEqual(NO_CORS);
    expect(await faults()).toHaveLength(1);
    expect((await fetch(`${emu.url}/_emulator/faults`, { method: 'DELETE' })).status).toBe(204);
    // An empty POST without a type (curl -X POST) is still fine.
    expect((await fetch(`${emu.url}/_emulator/reset`, { method: 'POST' })).status).toBe(200);
  });

  it('a DNS-rebound name is not the own origin, even when Origin and Host agree', async () => {
    const u = new URL(emu.url);
    const status = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify(FAULT);
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: '/_emulator/faults',
          method: 'POST',
          headers: {
            host: `rebind.evil.example:${u.port}`,
            origin: `http://rebind.evil.example:${u.port}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(403);
    expect(await faults()).toEqual([]);
  });

  it('/v1 keeps its CORS (preflight and actual responses)', async () => {
    const pre = await fetch(`${emu.apiBase}/people/me`, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'GET' },
    });
    expect([pre.status, pre.headers.get('access-control-allow-origin')]).toEqual([204, EVIL]);
    const actual = await fetch(`${emu.apiBase}/people/me`, { headers: { origin: EVIL } });
    expect([actual.status, actual.headers.get('access-control-allow-origin')]).toEqual([401, EVIL]);
  });
});
