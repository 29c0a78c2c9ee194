// `webex-auth webhooks` (issue 19, lifecycle events): add prints the secret once, list never shows it, a CLI action
// (keys create) reaches a real loopback receiver verifiable with `standardwebhooks`, deliveries shows it, redeliver
// repeats its webhook-id, remove removes; a private target without ALLOW_PRIVATE_WEBHOOKS is a one-line usage error.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runInProcess, storePeopleConnections } from './helpers.js';

interface Hit {
  body: string;
  headers: Record<string, string>;
}

let server: Server;
let base: string;
const hits: Hit[] = [];
let env: Record<string, string | undefined>;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hits.push({ body, headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  env = isolatedEnv({ WEBEX_API_BASE: 'http://127.0.0.1:9/v1', ALLOW_PRIVATE_WEBHOOKS: 'true' });
  await storePeopleConnections(env, 'http://127.0.0.1:9/v1', [{ email: 'alice@example.com' }]);
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

const run = (argv: string[], e = env) => runInProcess(argv, { env: e });

describe('webex-auth webhooks', () => {
  it('add, a verified event, deliveries, redeliver, remove', async () => {
    const added = await run(['webhooks', 'add', `${base}/cli`, '--note', 'ops', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const made = JSON.parse(added.stdout) as { id: string; secret: string; url: string };
    expect(made.secret).toMatch(/^whsec_/);
    const list = await run(['webhooks', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ id: made.id, url: `${base}/cli`, description: 'ops' }),
    ]);
    expect(list.stdout).not.toContain(made.secret.slice(6));

    const key = await run(['keys', 'create', '--name', 'bot']);
    expect(key.code, key.stderr).toBe(0);
    for (let i = 0; i < 200 && hits.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const first = hits[0] as Hit;
    expect(new Webhook(made.secret).verify(first.body, first.headers)).toMatchObject({ type: 'key.created' });

    const log = await run(['webhooks', 'deliveries', made.id, '--json']);
    const [delivery] = JSON.parse(log.stdout) as Array<{ id: string; eventId: string; type: string }>;
    expect(delivery).toMatchObject({ type: 'key.created', eventId: first.headers['webhook-id'] });
    const again = await run(['webhooks', 'redeliver', delivery?.id as string]);
    expect(again.code, again.stderr).toBe(0);
    for (let i = 0; i < 200 && hits.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(hits[1]?.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(() => new Webhook(made.secret).verify(hits[1]?.body ?? '', hits[1]?.headers ?? {})).not.toThrow();

    expect((await run(['webhooks', 'remove', made.id])).code).toBe(0);
    const gone = await run(['webhooks', 'remove', made.id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no webhook endpoint');
  });

  it('refuses a private target without ALLOW_PRIVATE_WEBHOOKS, and bad usage, in one line', async () => {
    const strict = { ...env, ALLOW_PRIVATE_WEBHOOKS: undefined };
    const refused = await run(['webhooks', 'add', 'http://127.0.0.1:9/hook'], strict);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('public addresses only');
    expect(refused.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect((await run(['webhooks'])).code).toBe(2);
    expect((await run(['webhooks', 'list', 'extra'])).code).toBe(2);
    expect((await run(['webhooks', 'list', '--note', 'x'])).code).toBe(2);
  });
});
