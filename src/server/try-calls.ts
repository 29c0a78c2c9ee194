/**
 * The calls "Try it" offers on a connection page: a fixed table of common read endpoints. Nothing a browser sends
 * reaches a URL but the id of a row; the few values a call needs (the person's own email, the id of their most
 * recently active space) are filled in by the server. The scopes each call needs come from the scope catalog.
 */
import { scopesForEndpoint } from '../scopes/catalog.js';

/** One read call of the table. */
export interface TryCall {
  /** What the button says. */
  label: string;
  /** What the call shows, in words. */
  what: string;
  method: 'GET';
  path: string;
  query?: Record<string, string | number>;
  /** Asks `GET /rooms` for the most recently active space first and passes its id as `roomId`. */
  inRecentRoom?: boolean;
  /** Passes the connection's email as `email`. */
  withOwnEmail?: boolean;
}

/** The calls, by the id the form sends. */
export const TRY_CALLS = {
  'people-me': { label: 'GET /people/me', what: 'your Webex profile', method: 'GET', path: '/people/me' },
  'people-email': {
    label: 'GET /people?email=…',
    what: 'the directory entry of your own email',
    method: 'GET',
    path: '/people',
    withOwnEmail: true,
  },
  userinfo: { label: 'GET /userinfo', what: 'who you are, by OpenID Connect', method: 'GET', path: '/userinfo' },
  rooms: { label: 'GET /rooms', what: 'your spaces', method: 'GET', path: '/rooms', query: { max: 10 } },
  'rooms-direct': {
    label: 'GET /rooms?type=direct',
    what: 'your direct (1:1) spaces',
    method: 'GET',
    path: '/rooms',
    query: { type: 'direct', max: 10 },
  },
  memberships: {
    label: 'GET /memberships',
    what: 'your memberships of spaces',
    method: 'GET',
    path: '/memberships',
    query: { max: 10 },
  },
  messages: {
    label: 'GET /messages',
    what: 'the latest messages of your most recently active space',
    method: 'GET',
    path: '/messages',
    query: { max: 10 },
    inRecentRoom: true,
  },
  webhooks: {
    label: 'GET /webhooks',
    what: 'the webhooks this integration registered for you (any token may list them)',
    method: 'GET',
    path: '/webhooks',
  },
} as const satisfies Record<string, TryCall>;

/** The id of a row of {@link TRY_CALLS}. */
export type TryCallId = keyof typeof TRY_CALLS;

/** The ids of {@link TRY_CALLS}, for the form's zod enum. */
export const TRY_CALL_IDS = Object.keys(TRY_CALLS) as [TryCallId, ...TryCallId[]];

/** The call that finds the most recently active space for {@link TryCall.inRecentRoom}. */
export const RECENT_ROOM_CALL = { method: 'GET', path: '/rooms', query: { sortBy: 'lastactivity', max: 1 } } as const;

/**
 * {@link scopesNeeded} per call: the catalog and the table never change, and matching every call against the whole
 * catalog on each connection page was a quarter of the page's CPU.
 */
const needed = new WeakMap<TryCall, readonly (readonly string[])[]>();

/**
 * The scope sets a call needs: one entry per request it makes, each listing the scopes any one of which allows that
 * request (from the catalog; `spark:all` included where it covers). An empty list: any token may make the call.
 */
export function scopesNeeded(call: TryCall): readonly (readonly string[])[] {
  let steps = needed.get(call);
  if (!steps) {
    steps = [
      ...(call.inRecentRoom ? [scopesForEndpoint(RECENT_ROOM_CALL.method, RECENT_ROOM_CALL.path)] : []),
      scopesForEndpoint(call.method, call.path),
    ].filter((alternatives) => alternatives.length > 0);
    needed.set(call, steps);
  }
  return steps;
}

/**
 * The scopes `granted` lacks for `call`: for each unmet step, the scope to ask for (the first one the catalog names
 * for it — the narrow user scope, not `spark:all`). Empty when the call is allowed.
 */
export function missingScopes(call: TryCall, granted: readonly string[]): string[] {
  const have = new Set(granted);
  return scopesNeeded(call)
    .filter((alternatives) => !alternatives.some((s) => have.has(s)))
    .map((alternatives) => alternatives.find((s) => s !== 'spark:all') ?? (alternatives[0] as string));
}
