/**
 * The Webex emulator: a Fastify app that mirrors `https://webexapis.com/v1` for integrations (OAuth, OIDC, device
 * grant, a few REST resources with file uploads), Service Apps and their guests, and the admin authorizations API, plus
 * a test-only control API under `/_emulator`. It shares no code with the client side (only the scope catalog's data).
 */
import type { FastifyInstance } from 'fastify';
import { buildEmulator } from './app.js';
import { restId, seededRoomUuid } from './ids.js';
import type { EmulatorOptions } from './options.js';
import type { SeedInput } from './seed.js';

export { buildEmulator } from './app.js';
export { DEMO_SEED } from './demo-seed.js';
export { DEFAULT_ISSUER, type EmulatorOptions } from './options.js';
export { type Seed, SeedError, type SeedInput, validateSeed } from './seed.js';

/** A running emulator. */
export interface RunningEmulator {
  /** `http://127.0.0.1:P` */
  url: string;
  /** `url + '/v1'`, the stand-in for `https://webexapis.com/v1`. */
  apiBase: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
  app: FastifyInstance;
}

/** Builds the emulator and listens (default `127.0.0.1`, port 0 = a free port). */
export async function startEmulator(
  options: EmulatorOptions & { port?: number; host?: string } = {},
): Promise<RunningEmulator> {
  const { port = 0, host = '127.0.0.1', ...rest } = options;
  const app = await buildEmulator(rest);
  await app.listen({ port, host });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${shownHost}:${actualPort}`;
  return { url, apiBase: `${url}/v1`, close: () => app.close(), app };
}

/**
 * The REST id of the first room in `seed` titled `title` that `member` (an email) belongs to, or undefined. Seeded
 * rooms keep stable ids (ids.ts), so demo mode finds its space without a request to the emulator (a first request
 * loads Fastify's inject and warms the request path on the way to `/readyz`).
 */
export function seededRoomId(seed: SeedInput, title: string, member: string): string | undefined {
  const email = member.toLowerCase();
  const index = (seed.rooms ?? []).findIndex(
    (r) => r.title === title && r.members.some((m) => m.toLowerCase() === email),
  );
  return index < 0 ? undefined : restId('ROOM', seededRoomUuid(index, title));
}
