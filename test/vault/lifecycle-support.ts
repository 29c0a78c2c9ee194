/**
 * Shared by the refresh-lifecycle tests (back-off, cap, reconcile): a webhook receiver on loopback that keeps every
 * body, a person connected through the emulator's consent form (any seeded person), and the emulator's request count.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { exchangeCode } from '../../src/oauth/tokens.js';
import type { Integration } from '../../src/oauth/types.js';
import type { Connection, Vault } from '../../src/vault/types.js';

/** A loopback HTTP server that records every POSTed body. */
export async function webhookReceiver(): Promise<{ url: string; bodies: string[]; close: () => Promise<void> }> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The event types among the received bodies, in order (whatever the envelope: `type` or `event`). */
export function eventTypes(bodies: string[], connectionId?: string): string[] {
  return bodies
    .map(
      (b) =>
        JSON.parse(b) as { type?: string; event?: string; connectionId?: string; data?: { connectionId?: string } },
    )
    .filter((e) => !connectionId || (e.data?.connectionId ?? e.connectionId) === connectionId)
    .map((e) => e.type ?? e.event ?? '');
}

/**
 * Connects `email` through `integration` at the emulator: consent form, code exchange, people/me (with its org id),
 * and `saveFromGrant`.
 */
export async function connectPerson(
  vault: Pick<Vault, 'integrations' | 'connections'>,
  emulator: RunningEmulator,
  integration: Omit<Integration, 'apiBase'> & { scopes: string[] },
  email: string,
  scopes: string[],
  clock?: () => number,
): Promise<Connection> {
  const it: Integration = { ...integration, apiBase: emulator.apiBase };
  const authorize = new URL(`${emulator.apiBase}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: it.clientId,
    redirect_uri: it.redirectUri,
    scope: scopes.join(' '),
    state: 'st-1',
  }).toString();
  const page = await fetch(authorize, { redirect: 'manual' });
  let location = page.headers.get('location');
  if (page.status === 200) {
    const requestId = /name="request" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const post = await fetch(`${emulator.apiBase}/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: requestId, email, decision: 'accept' }),
    });
    location = post.headers.get('location');
  }
  const code = new URL(location ?? 'http://x/').searchParams.get('code');
  if (!code) throw new Error(`no code for ${email}`);
  const tokens = await exchangeCode(
    it,
    {
      code,
      pending: { state: 'st-1', codeVerifier: '', redirectUri: it.redirectUri, scopes, createdAt: Date.now() },
    },
    clock ? { clock } : {},
  );
  const me = (await (
    await fetch(`${emulator.apiBase}/people/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } })
  ).json()) as { id: string; emails: string[]; displayName: string; orgId: string };
  const stored = await vault.integrations.upsert({ ...it, scopes: integration.scopes });
  return vault.connections.saveFromGrant({
    integrationId: stored.id,
    tokens,
    person: { id: me.id, emails: me.emails, displayName: me.displayName, orgId: me.orgId },
    requestedScopes: scopes,
  });
}

/** How many requests the emulator answered with `METHOD path STATUS` keys starting with `prefix`. */
export async function requestCount(emulator: RunningEmulator, prefix: string): Promise<number> {
  const stats = (await (await fetch(`${emulator.url}/_emulator/stats`)).json()) as { requests: Record<string, number> };
  return Object.entries(stats.requests)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((n, [, v]) => n + v, 0);
}

/** Waits (polling, generous cap) until `check` holds. */
export async function until(check: () => boolean | Promise<boolean>, what: string, capMs = 20_000): Promise<void> {
  const end = Date.now() + capMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
