/** Multipart POST /v1/messages with a file, and GET /v1/contents/{id}. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emu, get, login, start } from './helpers.js';

let emu: Emu;
let alice: string;
let bob: string;
let roomId: string;
beforeAll(async () => {
  emu = await start({ maxUploadBytes: 64 * 1024 });
  alice = (await login(emu, { scope: 'spark:all' }, 'alice@example.com')).access_token;
  bob = (await login(emu, { scope: 'spark:all' }, 'bob@example.com')).access_token;
  const rooms = await get(emu, '/rooms', alice);
  roomId = rooms.body.items.find((r: any) => r.title === 'Demo space').id;
});
afterAll(async () => emu.close());

function form(fields: Record<string, string>, files: Array<{ name: string; type: string; bytes: Buffer }> = []) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const f of files) fd.append('files', new Blob([new Uint8Array(f.bytes)], { type: f.type }), f.name);
  return fd;
}

const post = (bearer: string, body: FormData) => get(emu, '/messages', bearer, { method: 'POST', body });

describe('multipart messages and contents', () => {
  it('stores the file and serves it back to room members with its type and name', async () => {
    const bytes = randomBytes(40_000);
    const r = await post(
      alice,
      form({ roomId, text: 'a report' }, [{ name: 'report è.pdf', type: 'application/pdf', bytes }]),
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ roomId, text: 'a report' });
    expect(r.body.files).toHaveLength(1);
    const url = new URL(r.body.files[0]);
    expect(url.origin).toBe(emu.url);
    expect(url.pathname).toMatch(/^\/v1\/contents\/[A-Za-z0-9]+$/);

    const dl = await fetch(url, { headers: { authorization: `Bearer ${alice}` } });
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-type')).toBe('application/pdf');
    expect(dl.headers.get('content-disposition')).toBe(
      `attachment; filename="report _.pdf"; filename*=UTF-8''${encodeURIComponent('report è.pdf')}`,
    );
    expect(Buffer.from(await dl.arrayBuffer()).equals(bytes)).toBe(true);

    const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${alice}` } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));

    // Bob is not in the room; no token is 401.
    expect((await get(emu, url.href, bob)).status).toBe(404);
    expect((await get(emu, url.href)).status).toBe(401);
    const noScope = (await login(emu, { scope: 'spark:people_read' }, 'alice@example.com')).access_token;
    expect((await get(emu, url.href, noScope)).status).toBe(403);

    // The message reads back with its file, and cannot be edited.
    const again = await get(emu, `/messages/${r.body.id}`, alice);
    expect(again.body.files).toEqual(r.body.files);
    const edit = await get(emu, `/messages/${r.body.id}`, alice, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ roomId, text: 'changed' }),
    });
    expect(edit.status).toBe(400);
  });

  it('takes toPersonEmail and markdown; a file alone is enough', async () => {
    const r = await post(
      bob,
      form({ toPersonEmail: 'alice@example.com' }, [{ name: 'a.txt', type: 'text/plain', bytes: Buffer.from('hi') }]),
    );
    expect(r.status).toBe(200);
    expect(r.body.roomType).toBe('direct');
    const dl = await get(emu, r.body.files[0], alice);
    expect(dl.body).toBe('hi');
    const md = await post(alice, form({ roomId, markdown: '**bold**' }));
    expect(md.status).toBe(200);
    expect(md.body.files).toBeUndefined();
  });

  it('refuses two files, a file in another field, repeated fields, no room, no content, and an oversized file', async () => {
    const f = { name: 'a.bin', type: 'application/octet-stream', bytes: Buffer.from('x') };
    const two = await post(alice, form({ roomId }, [f, f]));
    expect(two.status).toBe(400);
    expect(two.body.message).toMatch(/one file/);
    const other = new FormData();
    other.append('roomId', roomId);
    other.append('attachment', new Blob(['x']), 'x');
    expect((await post(alice, other)).status).toBe(400);
    const repeated = new FormData();
    repeated.append('roomId', roomId);
    repeated.append('roomId', roomId);
    repeated.append('text', 'x');
    expect((await post(alice, repeated)).status).toBe(400);
    expect((await post(alice, form({ text: 'no room' }))).status).toBe(400);
    expect((await post(alice, form({ roomId }))).status).toBe(400);
    const big = await post(alice, form({ roomId }, [{ ...f, bytes: randomBytes(64 * 1024 + 1) }]));
    expect(big.status).toBe(413);
    const huge = await post(alice, form({ roomId }, [{ ...f, bytes: randomBytes(600 * 1024) }]));
    expect(huge.status).toBe(413);
    expect(huge.body.message).toMatch(/larger than 65536 bytes/);
    expect(big.body.message).toMatch(/larger than 65536 bytes/);
    // The emulator still answers afterwards.
    expect((await get(emu, '/people/me', alice)).status).toBe(200);
  });

  it('takes files far above the JSON body limit by default (5 MiB here)', async () => {
    const big = await start();
    try {
      const t = (await login(big, { scope: 'spark:all' }, 'alice@example.com')).access_token;
      const room = (await get(big, '/rooms', t)).body.items[0].id;
      const bytes = randomBytes(5 * 1024 * 1024);
      const fd = form({ roomId: room }, [{ name: 'big.bin', type: 'application/octet-stream', bytes }]);
      const r = await get(big, '/messages', t, { method: 'POST', body: fd });
      expect(r.status).toBe(200);
      const dl = await fetch(r.body.files[0], { headers: { authorization: `Bearer ${t}` } });
      expect(Buffer.from(await dl.arrayBuffer()).equals(bytes)).toBe(true);
    } finally {
      await big.close();
    }
  });

  it('a bad multipart body is a 400, never a 500', async () => {
    const r = await get(emu, '/messages', alice, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=zzz' },
      body: 'not multipart at all',
    });
    expect(r.status).toBe(400);
    const noBoundary = await get(emu, '/messages', alice, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data' },
      body: 'x',
    });
    expect(noBoundary.status).toBe(400);
  });
});
