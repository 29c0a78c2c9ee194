/** The space page's event streams (space/streams.ts) on a real loopback HTTP server. */
import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStreams } from '../../src/server/space/streams.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A loopback server that hands each request to `onRequest`; resolves to its URL. */
async function server(onRequest: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(onRequest);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  closers.push(async () => {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('EventStreams', () => {
  it('does not keep a stream whose browser left before it was opened (it would count against the limits forever)', async () => {
    const idle: string[] = [];
    const streams = new EventStreams({ perOwner: 1, total: 1, heartbeatMs: 60_000 }, (feed) => idle.push(feed));
    let opened = false;
    const url = await server((req, res) => {
      // As the route does after its awaits: the browser may be gone by the time the stream is opened.
      req.socket.once('close', () =>
        setImmediate(() => {
          streams.open('owner', 'feed', res);
          opened = true;
        }),
      );
    });
    const client = get(url);
    client.on('error', () => {});
    await new Promise((r) => setTimeout(r, 50));
    client.destroy();
    await until(() => opened);
    expect(opened).toBe(true);
    expect(streams.size).toBe(0);
    expect(streams.refusal('owner')).toBeUndefined();
    expect(idle).toEqual(['feed']);
    streams.closeAll();
  });

  it('forgets a stream when its browser leaves, and tells the feed it is idle', async () => {
    const idle: string[] = [];
    const streams = new EventStreams({ perOwner: 1, total: 5, heartbeatMs: 60_000 }, (feed) => idle.push(feed));
    const url = await server((_req, res) => streams.open('owner', 'feed', res));
    const client = get(url);
    client.on('error', () => {});
    const [res] = (await once(client, 'response')) as [IncomingMessage];
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(streams.size).toBe(1);
    expect(streams.refusal('owner')).toBe('owner-limit');
    client.destroy();
    await until(() => streams.size === 0);
    expect(streams.size).toBe(0);
    expect(idle).toEqual(['feed']);
    streams.closeAll();
  });
});
