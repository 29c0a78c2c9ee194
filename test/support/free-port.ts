/**
 * A free loopback port for a test that must name its port before it listens (a redirect URI registered with the
 * emulator first). Drawn below the kernel's ephemeral range (32768-60999 on Linux), then bound and released to check
 * it is free: a port the kernel hands out on its own (to another test's `listen(0)` or outgoing connection, in the
 * parallel test files) cannot take it in between, as it could take a port `listen(0)` had just returned.
 */
import { createServer } from 'node:net';

const LOW = 20_000;
const HIGH = 32_000;

function tryPort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1 outside the ephemeral range (bound then released). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await tryPort(port)) return port;
  }
  throw new Error(`no free port between ${LOW} and ${HIGH} after 50 tries`);
}
