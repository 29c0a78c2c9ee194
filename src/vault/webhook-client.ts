/**
 * How members' webhook endpoints are reached: a plain node:http(s) POST whose socket look-up is
 * {@link guardedSocketLookup} — the address is resolved, checked and connected to in one step, so a name that
 * resolves to a private address at delivery time (DNS rebinding) reaches nothing. Redirects are never followed
 * (node:http does not follow them). Answers as a fetch `Response` without a body (the sender reads only the status
 * and `Location` / `Retry-After`).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FetchLike } from '../oauth/types.js';
import { guardedSocketLookup, type WebhookLookup } from './webhook-address.js';

/** A POST-only fetch for members' endpoints through the guarded look-up. */
export function guardedFetch(lookup: WebhookLookup, allowPrivate: boolean): FetchLike {
  const socketLookup = guardedSocketLookup(lookup, allowPrivate);
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: init?.method ?? 'POST',
          headers: Object.fromEntries(new Headers(init?.headers)),
          lookup: socketLookup as never,
          signal: init?.signal ?? undefined,
          // A fresh connection per delivery: a pooled socket would skip the look-up.
          agent: false,
        },
        (res) => {
          res.resume();
          const headers = new Headers();
          for (const name of ['location', 'retry-after']) {
            const v = res.headers[name];
            if (typeof v === 'string') headers.set(name, v);
          }
          const status = res.statusCode ?? 0;
          resolve(new Response(null, { status: status >= 200 && status <= 599 ? status : 502, headers }));
        },
      );
      req.on('error', reject);
      req.end(init?.body === undefined || init.body === null ? undefined : String(init.body));
    });
}
