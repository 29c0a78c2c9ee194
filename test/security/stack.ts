/**
 * A real stack for the security tests: the emulator (auto-consent by default) and a `webex-auth serve` process in
 * "custom" mode pointed at it, on free loopback ports, with a SQLite store in a temp dir.
 */
import { type EmulatorOptions, startEmulator } from '../../src/emulator/index.js';
import { freePort, type ServerProcess, seedFor, serveEnv, startServe, tempDir } from './support.js';

/** A running emulator + server. */
export interface Stack {
  emulator: Awaited<ReturnType<typeof startEmulator>>;
  server: ServerProcess;
  redirectUri: string;
  dataDir: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the stack; `displayName` is the seeded person's name as Webex returns it. */
export async function startStack(
  options: { displayName?: string; emulator?: EmulatorOptions; env?: Record<string, string> } = {},
): Promise<Stack> {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/oauth`;
  const emulator = await startEmulator({
    seed: seedFor([redirectUri], options.displayName),
    autoConsent: 'alice@example.com',
    logger: false,
    ...options.emulator,
  });
  const tmp = tempDir();
  const env = serveEnv(emulator.apiBase, redirectUri, tmp.dir, { LOG_LEVEL: 'info', ...options.env });
  let server: ServerProcess;
  try {
    server = await startServe(env, port);
  } catch (err) {
    await emulator.close();
    tmp.cleanup();
    throw err;
  }
  return {
    emulator,
    server,
    redirectUri,
    dataDir: tmp.dir,
    env,
    async close() {
      await server.stop();
      await emulator.close();
      tmp.cleanup();
    },
  };
}
