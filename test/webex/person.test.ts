/** resolvePerson (src/webex/person.ts) against a real loopback server standing in for Webex's people/me and userinfo. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personIdFromSub, resolvePerson } from '../../src/webex/person.js';

const SUB = '0f3c8a2e-1b4d-4c6e-9a7b-2d5e8f1a3c4b';
let base: string;
let userinfo: { status: number; body: Record<string, unknown> };
let userinfoCalls = 0;
const server = createServer((req, res) => {
  const json = (status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (req.url === '/v1/people/me') return json(403, { message: 'missing spark:people_read' });
  if (req.url === '/v1/userinfo') {
    userinfoCalls++;
    return json(userinfo.status, userinfo.body);
  }
  json(404, {});
});

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const tokens = (scopes: string[]) => ({ accessToken: 'ACCESS', refreshToken: 'REFRESH', scopes });

describe('resolvePerson without spark:people_read', () => {
  it('an id_token with no email or name, and no email/profile scope: the sub alone, no userinfo call', async () => {
    const before = userinfoCalls;
    const r = await resolvePerson({ apiBase: base, tokens: tokens(['openid']), claims: { sub: SUB } });
    expect(r).toMatchObject({ source: 'id_token', person: { id: personIdFromSub(SUB), emails: [] } });
    expect(userinfoCalls).toBe(before);
  });

  it('an id_token that carries the email and name: no userinfo call', async () => {
    const before = userinfoCalls;
    const claims = { sub: SUB, email: 'ann@example.com', name: 'Ann' };
    const r = await resolvePerson({ apiBase: base, tokens: tokens(['openid', 'email', 'profile']), claims });
    expect(r.person).toMatchObject({ emails: ['ann@example.com'], displayName: 'Ann' });
    expect(userinfoCalls).toBe(before);
  });

  it('an id_token without the granted email: userinfo fills it in for the same sub', async () => {
    userinfo = { status: 200, body: { sub: SUB, email: 'ann@example.com', name: 'Ann Example' } };
    const r = await resolvePerson({ apiBase: base, tokens: tokens(['openid', 'email']), claims: { sub: SUB } });
    expect(r).toMatchObject({
      source: 'id_token',
      person: { id: personIdFromSub(SUB), emails: ['ann@example.com'], displayName: 'Ann Example' },
    });
  });

  it("userinfo for another sub, or failing, adds nothing: the id_token's person stands", async () => {
    for (const answer of [
      { status: 200, body: { sub: 'someone-else', email: 'eve@example.com' } },
      { status: 500, body: {} },
    ]) {
      userinfo = answer;
      const r = await resolvePerson({ apiBase: base, tokens: tokens(['openid', 'email']), claims: { sub: SUB } });
      expect(r.person, String(answer.status)).toMatchObject({ id: personIdFromSub(SUB), emails: [] });
    }
  });
});
