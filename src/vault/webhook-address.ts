/**
 * Where an account's or a connection's webhook endpoint may point. Such URLs are typed in by members, so the broker
 * must not be turned into a way to reach its own network: unless `ALLOW_PRIVATE_WEBHOOKS` is set, a target whose
 * address is private, loopback, link-local, unique-local, CGNAT, multicast, reserved or unspecified is refused — at
 * creation (every address the name resolves to) and again at each delivery, on the address actually connected to
 * (the connection's DNS look-up itself refuses such an address, so a name that later resolves elsewhere — DNS
 * rebinding — reaches nothing). The operator's `WEBHOOK_URL` is not checked: the operator chose it.
 */
import type { LookupAddress } from 'node:dns';
import type { BlockList } from 'node:net';
import { WebexAuthError } from '../errors.js';

// node:net and node:dns are loaded on first use, not with the vault: `webex-auth token` never checks an address, and
// loading them was ~2 ms of its ~40 ms CPU (bench/limits.md).
const net = () => process.getBuiltinModule('node:net');

/**
 * A webhook URL's origin and path only, for a log line or another owner's view (its query may carry a secret);
 * `base` resolves a relative one (a redirect's Location). Undefined when it is no URL.
 */
export function originAndPath(raw: string, base?: string): string | undefined {
  try {
    const url = new URL(raw, base);
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/** Resolves a host name to every address (the shape of `dns.promises.lookup(name, { all: true })`). */
export type WebhookLookup = (hostname: string) => Promise<LookupAddress[]>;

/** The system resolver. */
export const systemLookup: WebhookLookup = (hostname) =>
  process.getBuiltinModule('node:dns').promises.lookup(hostname, { all: true, verbatim: true });

let blockList: BlockList | undefined;

/** The blocked ranges, built on first use. */
function blocked(): BlockList {
  if (blockList) return blockList;
  const list = new (net().BlockList)();
  fillBlockList(list);
  blockList = list;
  return list;
}

/** Adds the ranges a member's webhook may not reach. */
function fillBlockList(blocked: BlockList): void {
  for (const [net, prefix] of [
    ['0.0.0.0', 8], // "this" network, 0.0.0.0
    ['10.0.0.0', 8],
    ['100.64.0.0', 10], // CGNAT
    ['127.0.0.0', 8],
    ['169.254.0.0', 16], // link-local (cloud metadata)
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15], // benchmarking
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ] as const) {
    blocked.addSubnet(net, prefix, 'ipv4');
  }
  for (const [net, prefix] of [
    ['::', 96], // unspecified, loopback, and the deprecated IPv4-compatible ::a.b.c.d (tunnelled to a.b.c.d by some hosts)
    ['64:ff9b:1::', 48], // local-use NAT64
    ['2001::', 32], // Teredo (an obfuscated IPv4 address inside)
    ['2001:db8::', 32], // documentation
    ['fc00::', 7], // unique-local
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local (deprecated)
    ['ff00::', 8], // multicast
    ['100::', 64], // discard
  ] as const) {
    blocked.addSubnet(net, prefix, 'ipv6');
  }
}

/**
 * The IPv4 address an IPv6 address embeds (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002:aabb:ccdd::/48`), if any.
 */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4})(?::|$)/.exec(lower);
  if (sixToFour) return dottedOf(sixToFour[1] as string, sixToFour[2] as string);
  const dotted = /^(?:::ffff:(?:0:)?|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:(?:0:)?|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  return dottedOf(hex[1] as string, hex[2] as string);
}

/** `a.b.c.d` from two hextets. */
function dottedOf(high: string, low: string): string {
  const hi = Number.parseInt(high, 16);
  const lo = Number.parseInt(low, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether `host` is an IP address literal (not a name). */
export function isIpLiteral(host: string): boolean {
  return net().isIP(host) !== 0;
}

/** Whether an IP address is one a member's webhook may not reach (anything not a literal IP counts as blocked). */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = net().isIP(ip);
  if (family === 4) return blocked().check(ip, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(ip);
  if (v4 !== undefined) return blocked().check(v4, 'ipv4');
  return blocked().check(ip, 'ipv6');
}

/** A webhook target refused for its address; the message names the host, never a path or query. */
export class RefusedAddressError extends WebexAuthError<'refused_address', 'vault'> {
  override name = 'RefusedAddressError';
  constructor(message: string) {
    super('vault', 'refused_address', message);
  }
}

/**
 * Checks every address `hostname` resolves to; throws {@link RefusedAddressError} when one is private, or when it
 * does not resolve.
 */
export async function checkWebhookHost(hostname: string, lookup: WebhookLookup = systemLookup): Promise<void> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (net().isIP(host)) {
    if (isPrivateAddress(host)) throw new RefusedAddressError(`${host} is a private, loopback or reserved address.`);
    return;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await lookup(host);
  } catch {
    throw new RefusedAddressError(`${host} does not resolve.`);
  }
  if (!addresses.length) throw new RefusedAddressError(`${host} does not resolve.`);
  if (addresses.some((a) => isPrivateAddress(a.address))) {
    throw new RefusedAddressError(`${host} resolves to a private, loopback or reserved address.`);
  }
}

/** The callback form of a socket's `lookup` option (net.connect / tls.connect). */
type SocketLookup = (
  hostname: string,
  options: { all?: boolean; family?: number | string },
  callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/**
 * A socket `lookup` for the delivery agent: resolves with `lookup`, refuses (ECONNREFUSED-like error) when any
 * address is private unless `allowPrivate`, and hands the checked addresses to the socket — which connects to one of
 * them, so no second resolution can swap in another address.
 */
export function guardedSocketLookup(lookup: WebhookLookup, allowPrivate: boolean): SocketLookup {
  return (hostname, options, callback) => {
    lookup(hostname).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
        if (!usable.length) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), []);
        if (!allowPrivate && usable.some((a) => isPrivateAddress(a.address))) {
          return callback(new RefusedAddressError(`${hostname} resolves to a private address.`), []);
        }
        if (options.all) return callback(null, usable);
        const first = usable[0] as LookupAddress;
        return callback(null, first.address, first.family);
      },
      (err: Error) => callback(err, []),
    );
  };
}
