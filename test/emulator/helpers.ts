/** Shared helpers of the emulator tests: start on 127.0.0.1:0, run the consent flow, call the token endpoint. */
import { createHash, randomBytes } from 'node:crypto';
import { DEMO_SEED, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js';

export const IT = DEMO_SEED.integrations[0] as (typeof DEMO_SEED.integrations)[0];
export const REDIRECT = 'http://localhost:8080/oauth';
export const BOT_TOKEN = DEMO_SEED.bots[0]?.token as string;

export type Emu = Awaited<ReturnType<typeof startEmulator>>;

export async function start(options: EmulatorOptions = {}): Promise<Emu> {
  return startEmulator({ port: 0, host: '127.0.0.1', ...options });
}

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(emu: Emu, params: Record<string, string | undefined> = {}): string {
  const u = new URL(`${emu.apiBase}/authorize`);
  const all: Record<string, string | undefined> = {
    client_id: IT.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'spark:people_read spark:rooms_read',
    state: 'st-123',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) u.searchParams.set(k, v);
  return u.href;
}

/** Runs authorize (auto-consent or the consent form) and returns the callback URL. */
export async function authorize(
  emu: Emu,
  params: Record<string, string | undefined> = {},
  email = 'alice@example.com',
) {
  const r = await fetch(authorizeUrl(emu, params), { redirect: 'manual' });
  if (r.status === 302) return new URL(r.headers.get('location') as string);
  if (r.status !== 200) throw new Error(`authorize ${r.status}: ${await r.text()}`);
  const html = await r.text();
  const requestId = /name="request" value="([^"]+)"/.exec(html)?.[1] as string;
  const post = await fetch(`${emu.apiBase}/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: requestId, email, decision: 'accept' }),
  });
  if (post.status !== 302) throw new Error(`consent ${post.status}: ${await post.text()}`);
  return new URL(post.headers.get('location') as string);
}

export async function token(emu: Emu, fields: Record<string, string>, init: RequestInit = {}) {
  const r = await fetch(`${emu.apiBase}/access_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
    ...init,
  });
  return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, any> };
}

export const CREDS = { client_id: IT.clientId, client_secret: IT.clientSecret };

/** A full code grant: returns the token response body. */
export async function login(emu: Emu, params: Record<string, string | undefined> = {}, email?: string) {
  const cb = await authorize(emu, params, email);
  const code = cb.searchParams.get('code') as string;
  const res = await token(emu, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...CREDS });
  if (res.status !== 200) throw new Error(`token ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function get(emu: Emu, path: string, accessToken?: string, init: RequestInit = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (accessToken) headers.authorization = `Bearer ${accessToken}`;
  const r = await fetch(path.startsWith('http') ? path : `${emu.apiBase}${path}`, {
    redirect: 'manual',
    ...init,
    headers,
  });
  const text = await r.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: r.status, headers: r.headers, body };
}

export async function control(emu: Emu, path: string, body?: unknown, method = 'POST') {
  const r = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
