/**
 * `webex-auth api <path>` in-process against the real emulator on a random loopback port: connections made by the
 * real `login --no-browser` flow (consent driven as a browser would), calls answered by the emulator's REST API.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEMO_SEED, type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import { control, refreshGrants } from '../vault/emulator-grant.js';
import { ALICE, freePort, seedWith } from './emulator.js';
import { emulatorCliEnv, isolatedEnv, pasteLogin, type RunResult, runInProcess } from './helpers.js';

let emulator: RunningEmulator;
let redirectUri: string;

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  emulator = await startEmulator({ seed: seedWith(DEMO_SEED as never, redirectUri) as never });
});
afterAll(async () => emulator?.close());

/** A CLI environment on its own store, pointed at `emu` with the test integration. */
function cliEnv(emu: RunningEmulator = emulator, extra: Record<string, string | undefined> = {}) {
  return emulatorCliEnv(emu.apiBase, redirectUri, { NO_COLOR: '1', ...extra });
}

/** `login --no-browser --scopes <scopes>` as `email`: the printed URL consented to, the redirect pasted. */
async function login(env: Record<string, string | undefined>, scopes: string, email = ALICE): Promise<string> {
  const r = await pasteLogin(env, ['--json', '--scopes', scopes], { email });
  if (r.code !== 0) throw new Error(`login failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { connection: { id: string } }).connection.id;
}

const api = (env: Record<string, string | undefined>, args: string[], extra: { stdin?: string; tty?: boolean } = {}) =>
  runInProcess(['api', ...args], { env, stdin: extra.stdin, stdoutIsTTY: extra.tty ?? false });

/** The one `error:` line of a run. */
const errorLines = (r: RunResult) => r.stderr.split('\n').filter((l) => l.startsWith('error:'));

describe('webex-auth api with a full connection (spark:all)', () => {
  let env: Record<string, string | undefined>;
  let accessToken: string;

  beforeAll(async () => {
    env = cliEnv();
    await login(env, 'spark:all spark:people_read');
    accessToken = (await runInProcess(['token'], { env })).stdout.trim();
  });

  it('GET people/me: the person as compact JSON into a pipe, indented on a terminal', async () => {
    const r = await api(env, ['people/me']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ emails: [ALICE], displayName: 'Alice Example' });
    const tty = await api(env, ['/people/me'], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain('\n  "displayName": "Alice Example"');
    expect(JSON.parse(tty.stdout)).toEqual(JSON.parse(r.stdout));
    // The base path may be repeated, and a full URL under the API base is accepted.
    expect(JSON.parse((await api(env, ['/v1/people/me'])).stdout)).toEqual(JSON.parse(r.stdout));
    const full = await api(env, [`${emulator.apiBase}/people/me`]);
    expect(full.code, full.stderr).toBe(0);
    expect(JSON.parse(full.stdout)).toEqual(JSON.parse(r.stdout));
  });

  it('POST with -f fields creates a space (fields make the method POST); GET reads it back', async () => {
    const r = await api(env, ['rooms', '-f', 'title=Launch plan']);
    expect(r.code, r.stderr).toBe(0);
    const room = JSON.parse(r.stdout) as { id: string; title: string; type: string };
    expect(room).toMatchObject({ title: 'Launch plan', type: 'group' });
    const again = await api(env, [`rooms/${room.id}`]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: room.id, title: 'Launch plan' });
  });

  it('-X GET with fields sends them as the query string (-F typed: max=1 is a number)', async () => {
    await api(env, ['rooms', '-f', 'title=Query one']);
    await api(env, ['rooms', '-f', 'title=Query two']);
    const r = await api(env, ['rooms', '-X', 'GET', '-F', 'max=1', '-f', 'type=group', '--include']);
    expect(r.code, r.stderr).toBe(0);
    const [head, body] = r.stdout.split('\n\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\n/);
    expect(head).toMatch(/^link: <[^>]*max=1[^>]*>; rel="next"$/m);
    expect(head).toMatch(/^trackingid: \S+$/m);
    const page = JSON.parse(body as string) as { items: { type: string }[] };
    expect(page.items).toHaveLength(1);
    expect(page.items[0]?.type).toBe('group');
  });

  it('--paginate follows Link rel="next" and merges every page into one items list', async () => {
    for (const title of ['Page A', 'Page B', 'Page C']) await api(env, ['rooms', '-f', `title=${title}`]);
    const all = JSON.parse((await api(env, ['rooms'])).stdout) as { items: { id: string }[] };
    expect(all.items.length).toBeGreaterThanOrEqual(4);
    const r = await api(env, ['rooms?max=1', '--paginate']);
    expect(r.code, r.stderr).toBe(0);
    const merged = JSON.parse(r.stdout) as { items: { id: string }[] };
    expect(merged.items.map((i) => i.id).sort()).toEqual(all.items.map((i) => i.id).sort());
    // Without --paginate: the first page only.
    expect((JSON.parse((await api(env, ['rooms?max=1'])).stdout) as { items: unknown[] }).items).toHaveLength(1);
    // --paginate with -i: one header block per page, then the merged answer.
    const included = await api(env, ['rooms?max=2', '--paginate', '-i']);
    expect(included.stdout.match(/^HTTP\/1\.1 200 OK$/gm)).toHaveLength(Math.ceil(all.items.length / 2));
  });

  it('--input sends a JSON file (or standard input) as the body; fields then go to the query string', async () => {
    const file = join(env.HOME as string, 'room.json');
    writeFileSync(file, JSON.stringify({ title: 'From a file' }));
    const r = await api(env, ['rooms', '--input', 'room.json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ title: 'From a file' });
    const piped = await api(env, ['rooms', '--input', '-'], { stdin: '{"title":"From stdin"}' });
    expect(piped.code, piped.stderr).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ title: 'From stdin' });
    const bad = await api(env, ['rooms', '--input', '-'], { stdin: 'title=secret-words' });
    expect(bad.code).toBe(2);
    expect(errorLines(bad)).toEqual(['error: --input is not JSON']);
    expect(bad.stderr).not.toContain('secret-words');
    const missing = await api(env, ['rooms', '--input', 'nope.json']);
    expect(missing.code).toBe(2);
    expect(errorLines(missing)).toEqual(['error: --input: nope.json: no such file']);
  });

  it('a Webex error: its body to stdout, one line with the tracking id to stderr, exit 1', async () => {
    const r = await api(env, ['rooms', '-f', 'title=']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ message: expect.any(String), trackingId: expect.any(String) });
    const { trackingId } = JSON.parse(r.stdout) as { trackingId: string };
    expect(errorLines(r)).toEqual([expect.stringMatching(/^error: Webex POST \/rooms failed with HTTP 400: .+/)]);
    expect(errorLines(r)[0]).toContain(`(tracking id ${trackingId})`);
    const notFound = await api(env, ['rooms/no-such-room', '--silent']);
    expect(notFound.code).toBe(1);
    expect(notFound.stdout).toBe('');
    expect(notFound.stderr).toMatch(/HTTP 404/);
  });

  it("-F typed fields: @file sends the file's text (here a message's markdown), key[] makes an array", async () => {
    const room = JSON.parse((await api(env, ['rooms', '-f', 'title=Notes'])).stdout) as { id: string };
    writeFileSync(join(env.HOME as string, 'note.md'), '**Back on Monday**');
    const r = await api(env, ['messages', '-f', `roomId=${room.id}`, '-F', 'markdown=@note.md']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ roomId: room.id, markdown: '**Back on Monday**' });
    // Webex refuses an array where it wants a string: the body was sent as JSON with an array in it.
    const arrays = await api(env, ['rooms', '-f', 'title[]=a', '-f', 'title[]=b']);
    expect(arrays.code).toBe(1);
    expect(errorLines(arrays)[0]).toMatch(/HTTP 400: title/);
  });

  it('a 429 is reported with its Retry-After and not retried (exit 1), as gh does', async () => {
    await control(emulator.url, 'faults', { endpoint: 'rest', status: 429, retryAfter: 7, count: 1 });
    const r = await api(env, ['people/me']);
    expect(r.code).toBe(1);
    expect(errorLines(r)[0]).toMatch(/^error: Webex GET \/people\/me failed with HTTP 429/);
    expect(r.stderr).toContain('Wait 7 s (Retry-After), then try again.');
    // The one fault was spent on that one call: the next answers.
    expect((await api(env, ['people/me'])).code).toBe(0);
  });

  it('refuses a full URL outside the API base before reading the token: nothing is sent there', async () => {
    const seen: string[] = [];
    const other = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.end('{}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = (other.address() as { port: number }).port;
    try {
      const base = new URL(emulator.apiBase);
      for (const url of [
        `http://127.0.0.1:${port}/v1/people/me`,
        `${base.protocol}//localhost:${base.port}/v1/people/me`,
        `${base.origin}/other/people/me`,
        `//127.0.0.1:${port}/v1/people/me`,
        'https://webexapis.com/v1/people/me',
        '/../_emulator/stats',
        'ftp://127.0.0.1/v1/x',
      ]) {
        const r = await api(env, [url]);
        expect([url, r.code]).toEqual([url, 2]);
        expect(errorLines(r)).toHaveLength(1);
        expect(r.stderr).toContain("is not under the connection's API base");
        expect(r.stdout).toBe('');
      }
      expect(seen).toEqual([]);
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('usage errors are one line and a hint, exit 2; Authorization cannot be overridden; no secret printed', async () => {
    const cases: [string[], RegExp][] = [
      [[], /which endpoint\?/],
      [['people/me', 'rooms'], /give one endpoint/],
      [['people/me', '-X', 'TRACE'], /unknown method "TRACE"/],
      [['rooms', '--paginate', '-f', 'title=x'], /--paginate follows the pages of a GET, not of a POST/],
      [['people/me', '-H', `Authorization: Bearer ${accessToken}x`], /-H cannot set Authorization/],
      [['people/me', '-H', 'no colon here'], /expected 'Name: value'/],
      [['people/me', '-H', 'Host: evil.example'], /-H cannot set Host/],
      [['rooms', '-f', 'novalue'], /-f "novalue": expected key=value/],
      [['rooms', '-f', 'a=1', '-f', 'a[b]=2'], /clashes with another field/],
      [['people/me', '--nope'], /Unknown option '--nope'/],
    ];
    for (const [args, message] of cases) {
      const r = await api(env, args);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2]);
      expect(r.stderr.trim().split('\n')).toHaveLength(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr + r.stdout).not.toContain(accessToken);
    }
  });

  it('extra headers are sent, the access token stays the connection’s, and is never printed', async () => {
    const r = await api(env, ['people/me', '-i', '-H', 'Accept: application/json', '-H', 'X-Note: hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(accessToken);
    expect(JSON.parse(r.stdout.split('\n\n')[1] as string)).toMatchObject({ emails: [ALICE] });
  });
});

describe('webex-auth api with a connection that lacks the scope', () => {
  it('a 403 names the scope the call needs and the login that adds it (exit 1)', async () => {
    const env = cliEnv();
    await login(env, 'spark:people_read');
    const r = await api(env, ['rooms']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ trackingId: expect.any(String) });
    const [line] = errorLines(r);
    expect(line).toMatch(/^error: Webex GET \/rooms failed with HTTP 403: it needs the scope spark:rooms_read/);
    expect(line).toContain('which this connection lacks');
    expect(line).toMatch(/\(tracking id \S+\)$/);
    expect(r.stderr).toContain('webex-auth login --scopes "spark:people_read spark:rooms_read"');
    // WEBEX_AUTH_CONNECTION picks the connection as for the other commands.
    const full = cliEnv();
    const id = await login(full, 'spark:all spark:people_read', 'bob@example.com');
    const named = await api({ ...full, WEBEX_AUTH_CONNECTION: id }, ['people/me']);
    expect(named.code, named.stderr).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ emails: ['bob@example.com'] });
    const wrong = await api({ ...full, WEBEX_AUTH_CONNECTION: 'conn_nope' }, ['people/me']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('(from WEBEX_AUTH_CONNECTION)');
  });
});

describe('webex-auth api and the token lifetime (own emulator: its clock moves)', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: seedWith(DEMO_SEED as never, redirectUri) as never });
  });
  afterAll(async () => emu?.close());

  it('an expired access token is refreshed first, then the call succeeds', async () => {
    const env = cliEnv(emu);
    const id = await login(env, 'spark:people_read');
    const oldToken = (await runInProcess(['token'], { env })).stdout.trim();
    // Fifteen days on at Webex (the 14-day access token has expired there) and in the store.
    await control(emu.url, 'clock', { advanceSeconds: 15 * 86_400 });
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(loadConfig({ env, dotenvDir: false }).dbPath);
    db.prepare('UPDATE connections SET access_expires_at = ? WHERE id = ?').run(Date.now() - 1000, id);
    db.close();
    // Control: Webex now refuses the stored token.
    const refused = await fetch(`${emu.apiBase}/people/me`, { headers: { authorization: `Bearer ${oldToken}` } });
    expect(refused.status).toBe(401);
    const before = await refreshGrants(emu.url);
    const r = await api(env, ['people/me']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ emails: [ALICE] });
    expect(await refreshGrants(emu.url)).toBe(before + 1);
    expect((await runInProcess(['token'], { env })).stdout.trim()).not.toBe(oldToken);
  });

  it('an access token Webex rejects (revoked): exit 4 and what to run', async () => {
    const env = cliEnv(emu);
    await login(env, 'spark:people_read');
    await control(emu.url, 'revoke', { email: ALICE });
    // Webex's revocation takes effect after a lag; the call fails once it has.
    let r: RunResult | undefined;
    for (let i = 0; i < 100; i++) {
      r = await api(env, ['people/me']);
      if (r.code !== 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(r?.code).toBe(4);
    expect(errorLines(r as RunResult)[0]).toMatch(/HTTP 401/);
    expect(r?.stderr).toContain('webex-auth refresh');
  });
});

describe('webex-auth api in the help and the completion scripts', () => {
  it('is listed by --help, has its own help, and completes its flags', async () => {
    const help = await runInProcess(['--help'], { env: isolatedEnv() });
    expect(help.stdout).toMatch(/^ {2}api {2,}Make an authenticated Webex REST call/m);
    const own = await runInProcess(['api', '--help'], { env: isolatedEnv() });
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('Usage: webex-auth api <path>');
    expect(own.stdout).toMatch(/-X, --method <method>/);
    const bash = await runInProcess(['completion', 'bash'], { env: isolatedEnv() });
    expect(bash.stdout).toMatch(
      / {4}api\) COMPREPLY=\( \$\(compgen -W "--method --raw-field --field --header --input --paginate --include --silent --connection --help"/,
    );
    const fish = await runInProcess(['completion', 'fish'], { env: isolatedEnv() });
    expect(fish.stdout).toContain("__fish_seen_subcommand_from api' -l paginate");
  });
});
