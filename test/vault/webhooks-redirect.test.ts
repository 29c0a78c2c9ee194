/**
 * Issue 16 row 7: webhooks followed redirects, so a signed POST landed on another address. Two real loopback
 * receivers: the first answers 307 to the second; the second must get nothing, and the log must not carry the
 * Location's query.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookSender } from '../../src/vault/webhooks.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function receiver(answer: (hits: number) => { status: number; headers?: Record<string, string> }) {
  const hits: Array<{ method: string | undefined; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hits.push({ method: req.method, body });
      const a = answer(hits.length);
      res.writeHead(a.status, a.headers).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits };
}

function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('webhooks and redirects', () => {
  it('a 307 to another receiver is a failed delivery: the second receiver gets nothing', async () => {
    const second = await receiver(() => ({ status: 204 }));
    const first = await receiver(() => ({
      status: 307,
      headers: { location: `${second.url}?token=leak-me-not` },
    }));
    const { logger, lines } = capturingLogger();
    const sender = createWebhookSender({
      url: first.url,
      secret: 'whsec-0123456789abcdef',
      logger,
      baseDelayMs: 1,
    });
    sender.send('connection.refreshed', 'conn_r', 0);
    await sender.drain();
    expect(first.hits).toHaveLength(1);
    expect(second.hits).toEqual([]);
    const log = lines.join('');
    expect(log).toContain('redirects are not followed');
    expect(log).toContain('"status":307');
    expect(log).toContain(new URL(second.url).pathname);
    expect(log).not.toContain('leak-me-not');
  });
});
