/**
 * The request body of a proxied call: buffered when it fits `bufferLimit` (so a 401 or a waited-out 429 can send it
 * again), else streamed through up to `maxBody` bytes (never retried). A declared `Content-Length` above `maxBody` is
 * refused before a byte is read; a chunked body that grows past it fails the upstream request with
 * {@link BodyTooLarge}.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/** The body outgrew `PROXY_MAX_BODY` while streaming. */
export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}

/** What {@link readProxyBody} found. */
export type ProxyBody =
  | { kind: 'none' }
  | { kind: 'buffered'; bytes: Buffer }
  | { kind: 'streamed'; stream: Readable }
  | { kind: 'too_large' };

/** What {@link readProxyBody} finds for a request without a body. */
export const NO_BODY: ProxyBody = Object.freeze({ kind: 'none' });

/** Whether the request carries a body at all (a length above 0, or chunked). */
export function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return raw.headers['transfer-encoding'] !== undefined;
}

/** Reads `raw` up to `bufferLimit` bytes; see the module comment. */
export async function readProxyBody(raw: IncomingMessage, bufferLimit: number, maxBody: number): Promise<ProxyBody> {
  if (!hasBody(raw)) return NO_BODY;
  const declared = raw.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBody) return { kind: 'too_large' };
  const chunks: Buffer[] = [];
  let total = 0;
  const source = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    if (total > bufferLimit) break;
    const next = await source.next();
    if (next.done)
      return { kind: 'buffered', bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) };
    chunks.push(next.value);
    total += next.value.length;
    if (total > maxBody) return { kind: 'too_large' };
  }
  async function* rest(): AsyncGenerator<Buffer> {
    let sent = total;
    yield* chunks;
    chunks.length = 0;
    for (;;) {
      const next = await source.next();
      if (next.done) return;
      sent += next.value.length;
      if (sent > maxBody) throw new BodyTooLarge('The request body is larger than PROXY_MAX_BODY.');
      yield next.value;
    }
  }
  return { kind: 'streamed', stream: Readable.from(rest(), { objectMode: false }) };
}
