/**
 * Reads an undici answer body whole, from its `data` events: the chunks undici hands over (views of the bytes read
 * from the socket) are kept as they are, and a one-chunk body (most Webex JSON) is returned without a copy. undici's
 * own `arrayBuffer()`/`bytes()` first copy the bytes into a new array, which a Buffer then has to wrap again.
 */
import type { Dispatcher } from 'undici';

/** The whole answer body, or a failure when it passes `maxBodyBytes`. */
export function readBody(body: Dispatcher.ResponseData['body'], maxBodyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) body.destroy(new RangeError(`answer body over ${maxBodyBytes} bytes`));
      else chunks.push(chunk);
    });
    body.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    body.on('error', reject);
  });
}
