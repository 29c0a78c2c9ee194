/**
 * Demo mode: with no client id configured, the server starts the Webex emulator in-process on a second loopback port
 * with the demo seed (an integration whose redirect URIs include this server's, the person alice@example.com, a bot and
 * the "Demo space"), and points the configuration at it. Tokens then come from the emulator, never from Webex.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { DEMO_SEED, type SeedInput, seededRoomId, startEmulator } from '../emulator/index.js';
import { SPACE_SCOPES } from './routes/space.js';

/** The emulator's seed shape (README "Webex emulator": integrations, users, bots, rooms). */
type Seed = SeedInput;

/** A running demo: the configuration pointed at the emulator, and how to stop it. */
export interface Demo {
  config: Config;
  /** The emulator's base URL (`http://127.0.0.1:P`). */
  emulatorUrl: string;
  /** True when demo connections live in a throw-away database (removed by `close`). */
  demoDatabase: boolean;
  close(): Promise<void>;
}

/** The title of the seeded space the space demo uses. */
export const DEMO_SPACE_TITLE = 'Demo space';

/** A free TCP port on `host`, found by binding port 0 and letting go of it. */
async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error(`No free port on ${host}.`);
  return address.port;
}

/**
 * The configuration with the redirect URI this demo server serves: when WEBEX_REDIRECT_URI was not set, the default
 * one moved to the port the server listens on (PORT / --port). Port 0 is resolved to a free port first, since the
 * emulator's integration must know the redirect URI before the server listens.
 */
export async function demoRedirect(config: Config): Promise<Config> {
  if (config.redirectUriSet !== false) return config;
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const redirect = new URL(config.redirectUri);
  redirect.port = String(port);
  return { ...config, port, redirectUri: redirect.toString() };
}

/**
 * Starts the emulator for `config` (which must be in demo mode) and returns the configuration to serve with. Without
 * an explicit WEBEX_REDIRECT_URI, the returned configuration's redirect URI (and port, when it was 0) follow the port
 * the server listens on ({@link demoRedirect}); the demo integration registers that redirect URI.
 */
export async function startDemo(given: Config): Promise<Demo> {
  const config = await demoRedirect(given);
  const base: Seed = DEMO_SEED;
  const first = base.integrations[0];
  if (!first) throw new Error('The demo seed has no integration.');
  const integration = {
    ...first,
    redirectUris: [...new Set([...first.redirectUris, config.redirectUri])],
    scopes: [...new Set([...first.scopes, ...SPACE_SCOPES])],
  };
  const seed: Seed = { ...base, integrations: [integration, ...base.integrations.slice(1)] };
  const running = await startEmulator({ port: 0, host: '127.0.0.1', seed });
  // Demo tokens work only against this emulator, whose state ends with the process: keep them out of the shared
  // database (the CLI's real connections) in a throw-away one, unless a database was chosen explicitly.
  const defaultDb = !config.databaseUrl && config.dbPath === join(config.dataDir, 'webex-auth.db');
  const scratch = defaultDb ? mkdtempSync(join(tmpdir(), 'webex-auth-demo-')) : undefined;
  const closeAll = async () => {
    await running.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  };
  const bot = seed.bots?.[0];
  // From the seed, not a request: seeded rooms keep stable ids, and a first in-process request would load Fastify's
  // inject and warm the emulator's request path on the way to /readyz (bench/startup.mjs).
  const spaceId = bot ? seededRoomId(seed, DEMO_SPACE_TITLE, bot.email) : undefined;
  return {
    config: {
      ...config,
      clientId: integration.clientId,
      clientSecret: integration.clientSecret,
      apiBase: running.apiBase,
      // The picker offers every scope the demo integration registers (each preset works offline); the home page
      // still pre-checks only the two of a first look (DEFAULT_PICKED_SCOPES).
      scopes: config.scopes.length ? config.scopes : integration.scopes,
      botToken: config.botToken ?? bot?.token,
      spaceId: config.spaceId ?? spaceId,
      mode: 'demo',
      ...(scratch ? { dbPath: join(scratch, 'webex-auth-demo.db') } : {}),
    },
    emulatorUrl: running.url,
    demoDatabase: scratch !== undefined,
    close: closeAll,
  };
}
