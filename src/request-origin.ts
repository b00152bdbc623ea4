import { BlockList, isIP } from 'node:net';
import type { RequestOrigin } from './audit/audit-log.js';
import type { ServerContext } from './context.js';

const maxUserAgentLength = 512;
/** Forwarding headers longer than this are ignored whole rather than parsed. */
const maxForwardedHeaderLength = 4096;

/** Normalizes a socket address: IPv4-mapped IPv6 addresses become plain IPv4. */
export function normalizeIp(address: string | undefined): string | null {
  if (!address) return null;
  const unmapped = address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;

  return isIP(unmapped) ? unmapped.toLowerCase() : null;
}

/**
 * Normalizes one address taken from a forwarding header. A port never makes a new address, so
 * `1.2.3.4:80`, `"[2001:db8::1]:443"` and `[2001:db8::1]` are reduced to the bare address.
 * Returns null for anything else, such as `unknown` or an obfuscated `_hidden` identifier.
 */
export function parseForwardedAddress(value: string): string | null {
  let address = value.trim().replace(/^"(.*)"$/, '$1');
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(address);
  if (bracketed) {
    address = bracketed[1] ?? '';
  } else if (/^[^:]+:\d{1,5}$/.test(address)) {
    // One colon can only be IPv4 with a port; bare IPv6 has at least two.
    address = address.slice(0, address.indexOf(':'));
  }

  return normalizeIp(address);
}

/** Returns the `for=` addresses of a Forwarded header (RFC 7239), in header order. */
export function forwardedFor(header: string): (string | null)[] {
  const addresses: (string | null)[] = [];
  for (const element of header.split(',')) {
    for (const pair of element.split(';')) {
      const separator = pair.indexOf('=');
      if (separator === -1 || pair.slice(0, separator).trim().toLowerCase() !== 'for') continue;
      addresses.push(parseForwardedAddress(pair.slice(separator + 1)));
    }
  }

  return addresses;
}

/** Builds a matcher for TRUSTED_PROXIES entries: IP addresses and CIDR ranges. */
export function trustedProxyMatcher(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }

  return (address) => list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Picks the client address from the proxy chain: the right-most hop that is not a trusted proxy.
 * Walking from the right means a client cannot choose its address by sending its own header,
 * because only hops appended by trusted proxies are skipped. An unparsable hop ends the walk.
 */
export function clientFromChain(
  peer: string,
  chain: readonly (string | null)[],
  isTrusted: (address: string) => boolean,
): string {
  let client = peer;
  for (let index = chain.length - 1; index >= 0 && isTrusted(client); index--) {
    const hop = chain[index];
    if (!hop) break;
    client = hop;
  }

  return client;
}

/** Reads the hops a proxy recorded: Forwarded when present, else X-Forwarded-For. */
function proxyChain(headers: Headers): (string | null)[] {
  const forwarded = headers.get('forwarded');
  if (forwarded && forwarded.length <= maxForwardedHeaderLength) return forwardedFor(forwarded);
  const xForwardedFor = headers.get('x-forwarded-for');
  if (xForwardedFor && xForwardedFor.length <= maxForwardedHeaderLength) {
    return xForwardedFor.split(',').map(parseForwardedAddress);
  }

  return [];
}

export type OriginResolver = (request: Request, serverContext: ServerContext) => RequestOrigin;

/**
 * Creates the function that reads who sent a request. The client IP is the socket address,
 * unless that peer is a trusted proxy: then the forwarding headers name it. The User-Agent
 * header is cut to 512 characters.
 */
export function createOriginResolver(trustedProxies: readonly string[]): OriginResolver {
  const isTrusted = trustedProxyMatcher(trustedProxies);

  return (request, serverContext) => {
    const userAgent = request.headers.get('user-agent');
    // `socket` can be null: Node had already detached it from a chunked request cut off at MAX_BODY_BYTES.
    const peer = normalizeIp(serverContext.req?.socket?.remoteAddress);
    const ip = peer && isTrusted(peer) ? clientFromChain(peer, proxyChain(request.headers), isTrusted) : peer;

    return { ip, userAgent: userAgent ? userAgent.slice(0, maxUserAgentLength) : null };
  };
}

/** Reads who sent a request with no proxy trusted: the socket address and the User-Agent. */
export const requestOrigin: OriginResolver = createOriginResolver([]);
