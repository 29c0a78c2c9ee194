// The bot's webhook receiver: a small HTTP server that accepts Webex deliveries at one path, checks each signature
// against the raw body, answers at once, and hands the delivery on (the work happens after the answer).
import { createServer } from 'node:http';
import { signatureMatches } from './webhook.mjs';

/** A delivery is a few hundred bytes; anything near this is not from Webex. */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * @typedef {object} ReceiverOptions
 * @property {string} path Where deliveries arrive, e.g. `/webhooks/webex`.
 * @property {string} secret The webhook's secret.
 * @property {(delivery: Record<string, unknown>) => void} onDelivery Called after the 2xx answer, per verified delivery.
 * @property {(line: string) => void} log
 * @property {string} [host] Default `127.0.0.1`.
 * @property {number} [port] Default 0 (a free port).
 */

/**
 * Starts listening. Answers 204 to a verified delivery, 401 to a missing or wrong signature, 400 to a body that is not
 * a JSON object, 413 to an oversized one, 404/405 elsewhere.
 * @param {ReceiverOptions} options
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
export async function startReceiver(options) {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== options.path) return void res.writeHead(404).end();
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (!signatureMatches(raw, req.headers['x-spark-signature'], options.secret)) {
        options.log('rejected a delivery: missing or wrong X-Spark-Signature');
        return void res.writeHead(401).end();
      }
      let delivery;
      try {
        delivery = JSON.parse(raw.toString('utf8'));
      } catch {
        delivery = undefined;
      }
      if (!delivery || typeof delivery !== 'object' || Array.isArray(delivery)) return void res.writeHead(400).end();
      res.writeHead(204).end();
      options.onDelivery(delivery);
    });
    req.on('error', () => res.destroy());
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
