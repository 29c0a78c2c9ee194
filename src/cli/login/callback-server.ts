/**
 * The loopback callback server of `webex-auth login`: listens on the redirect URI's port and answers its path, hands
 * the callback that carries this login's `state` to the waiting command and shows the browser the outcome once the
 * command has it. Any other request — a web page's `<img src=http://localhost:PORT/oauth?error=…>`, a stale tab, a
 * guess — gets a small 400 page and changes nothing: only the matching state ends the wait.
 * node:http is enough for one route; no framework is loaded on the CLI's path.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** One callback that arrived: its full URL, and how to answer the browser once the login is done or failed. */
export interface ArrivedCallback {
  url: string;
  reply(ok: boolean, text: string): void;
}

/** A listening callback server. */
export interface CallbackServer {
  /** Resolves with the first request to the redirect path whose `state` is this login's. */
  callback: Promise<ArrivedCallback>;
  close(): Promise<void>;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The one page the browser sees: plain, escaped, no scripts. `ignored`: a request that is not this login's answer. */
function page(ok: boolean | 'ignored', text: string): string {
  const [title, heading] =
    ok === 'ignored'
      ? ['webex-auth: not this login', 'Not the answer to this login']
      : ok
        ? ['webex-auth: logged in', '✓ Logged in']
        : ['webex-auth: login failed', '✗ Login failed'];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto"><h1>${heading}</h1>
<p>${escapeHtml(text)}</p><p>You can close this tab and return to the terminal.</p></body></html>`;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}

/** Whether `given` is `expected`, in time independent of where they differ (both hashed to equal lengths). */
export function stateMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Whether a redirect URI can be served by a local callback server (plain http on a loopback host). */
export function isLoopbackRedirect(redirectUri: string): boolean {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Starts the callback server for `redirectUri` (which must be a loopback http URL, see {@link isLoopbackRedirect})
 * for the login whose authorization request carries `state`. Rejects with the listen error (e.g. `EADDRINUSE`) when
 * the port is taken.
 */
export async function startCallbackServer(redirectUri: string, expected: { state: string }): Promise<CallbackServer> {
  if (!expected.state) throw new Error('startCallbackServer needs the state of the pending authorization');
  const target = new URL(redirectUri);
  const port = Number(target.port || 80);
  let deliver!: (c: ArrivedCallback) => void;
  const callback = new Promise<ArrivedCallback>((resolve) => (deliver = resolve));
  let taken = false;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? target.host}`);
    if (req.method !== 'GET' || url.pathname !== target.pathname) return send(res, 404, page(false, 'Not found.'));
    const ours = ['code', 'state', 'error'].some((p) => url.searchParams.has(p));
    if (!ours) return send(res, 400, page(false, 'This address expects the redirect from Webex.'));
    // Not this login's state (an error without it included): ignored, the wait goes on.
    if (!stateMatches(url.searchParams.get('state'), expected.state)) {
      const why = 'This request does not carry the state of the pending login: it was ignored.';
      return send(res, 400, page('ignored', why));
    }
    if (taken) return send(res, 409, page(false, 'This login was already handled; see the terminal.'));
    taken = true;
    let answered = false;
    // Keep the browser waiting until the command knows the outcome (exchange, people/me, store), then tell it.
    deliver({
      url: `${target.protocol}//${target.host}${url.pathname}${url.search}`,
      reply(ok, text) {
        if (answered) return;
        answered = true;
        send(res, ok ? 200 : 400, page(ok, text));
      },
    });
  };
  const servers: Server[] = [];
  const hosts = target.hostname === 'localhost' ? ['127.0.0.1', '::1'] : [target.hostname.replace(/^\[|\]$/g, '')];
  for (const [i, host] of hosts.entries()) {
    const server = createServer(handler);
    try {
      await listen(server, port, host);
      servers.push(server);
    } catch (error) {
      // localhost: IPv4 is required, IPv6 is best effort (the machine may have no ::1).
      if (i === 0) {
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
        throw error;
      }
    }
  }
  return {
    callback,
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              // close() waits for open connections; idle keep-alive sockets are closed now, and a browser that holds
              // one open cannot keep the CLI alive (the timer is a bound, not a wait: close usually resolves first).
              s.close(() => resolve());
              s.closeIdleConnections();
              const bound = setTimeout(() => {
                s.closeAllConnections();
                resolve();
              }, 2000);
              bound.unref();
            }),
        ),
      );
    },
  };
}
