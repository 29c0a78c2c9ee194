/**
 * The web app in demo mode on a fresh store: the real emulator (port 0) and the app built on its configuration, in a
 * temp dir removed on close. One setup for the tests that walk the whole flow against the emulator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/server/app.js';
import { type Demo, startDemo } from '../../../src/server/demo.js';
import { generateKeyEntry } from '../../../src/vault/index.js';
import { testConfig } from './app.js';

/** The redirect URI the demo app is configured with. */
export const DEMO_REDIRECT = 'http://localhost:8080/oauth';

/** A running demo: the emulator, the app on it, and the temp dir of its store. */
export interface DemoApp {
  demo: Demo;
  app: FastifyInstance;
  dir: string;
  /** Closes the app and the emulator, and removes the temp dir. */
  close(): Promise<void>;
}

/** Starts the emulator and builds the app on it, with its store in a temp dir named after `name`. */
export async function startDemoApp(name: string): Promise<DemoApp> {
  const dir = mkdtempSync(join(tmpdir(), `webex-auth-${name}-`));
  const demo = await startDemo(
    testConfig({
      XDG_DATA_HOME: dir,
      WEBEX_AUTH_DB: join(dir, 'webex-auth.db'),
      WEBEX_AUTH_KEYS: generateKeyEntry('k1'),
      WEBEX_REDIRECT_URI: DEMO_REDIRECT,
    }),
  );
  const app = await buildApp(demo.config);
  return {
    demo,
    app,
    dir,
    async close() {
      await app.close();
      await demo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
