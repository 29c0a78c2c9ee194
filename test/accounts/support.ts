/**
 * Helpers of the accounts tests: the team-mode emulator (test/e2e/fixtures/team-seed.json: alice and carol in org A,
 * dave at another domain, erin in org B), a team-mode app on it, and Sign in with Webex / connect through app.inject().
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { ROOT } from '../security/support.js';
import type { Browser } from '../server/support/app.js';

/** The team seed as JSON. */
export const TEAM_SEED = JSON.parse(readFileSync(join(ROOT, 'test', 'e2e', 'fixtures', 'team-seed.json'), 'utf8')) as {
  integrations: { clientId: string; clientSecret: string; redirectUris: string[]; scopes: string[] }[];
  users: { email: string; orgId?: string }[];
};
/** The seed's integration. */
export const TEAM_INTEGRATION = TEAM_SEED.integrations[0] as (typeof TEAM_SEED.integrations)[0];
/** Org A's REST id (alice, carol). */
export const ORG_A = TEAM_SEED.users.find((u) => u.email === 'alice@example.com')?.orgId as string;
/** A 32-character admin token (team mode in production needs ≥ 32). */
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';

/** Starts the emulator with the team seed on a free port. */
export async function startTeamEmulator(): Promise<RunningEmulator> {
  return startEmulator({ port: 0, host: '127.0.0.1', seed: TEAM_SEED as never });
}

/** The environment of a team-mode server on `emulator` (redirect URI on port 18481 unless given). */
export function teamEnv(emulator: { apiBase: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WEBEX_AUTH_MODE: 'team',
    WEBEX_CLIENT_ID: TEAM_INTEGRATION.clientId,
    WEBEX_CLIENT_SECRET: TEAM_INTEGRATION.clientSecret,
    WEBEX_REDIRECT_URI: 'http://localhost:18481/oauth',
    WEBEX_API_BASE: emulator.apiBase,
    ADMIN_EMAILS: 'carol@example.com',
    ALLOWED_EMAIL_DOMAINS: 'example.com',
    ...extra,
  };
}

/** Answers the emulator's consent page for `authorizeUrl` as `email`; returns the callback path + query. */
export async function consent(authorizeUrl: string, email: string, decision: 'accept' | 'decline' = 'accept') {
  const page = await fetch(authorizeUrl);
  const text = await page.text();
  const request = /name="request" value="([^"]+)"/.exec(text)?.[1];
  expect(request, text.slice(0, 300)).toBeTruthy();
  const answer = await fetch(new URL('/v1/authorize', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: request ?? '', email, decision }).toString(),
  });
  const location = new URL(String(answer.headers.get('location')));
  return location.pathname + location.search;
}

/** Signs `browser` in as `email` (landing page → /signin → consent → callback); returns the callback's response. */
export async function signIn(browser: Browser, email: string) {
  await browser.get('/');
  const start = await browser.post('/signin', {});
  expect(start.statusCode, start.body.slice(0, 300)).toBe(303);
  const callback = await consent(String(start.headers.location), email);
  return browser.get(callback);
}

/** Starts a connection for the signed-in `browser` and completes it as `email`; returns the connection id. */
export async function connect(browser: Browser, email: string, scopes = ['spark:people_read', 'spark:rooms_read']) {
  await browser.get('/');
  const start = await browser.post('/oauth/start', { scope: scopes });
  expect(start.statusCode, start.body.slice(0, 300)).toBe(303);
  // The callback answers with the connection page, which names its own address.
  const done = await browser.get(await consent(String(start.headers.location), email));
  expect(done.statusCode, done.body.slice(0, 300)).toBe(200);
  const id = /^\/connections\/([A-Za-z0-9_-]+)$/.exec(String(done.headers['content-location']))?.[1];
  expect(id).toBeTruthy();
  return id as string;
}

export type { RunningEmulator };
