import { isIPv6 } from 'node:net';

/** Expands an IPv6 address to its eight groups, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  if (!isIPv6(address)) return undefined;
  const [head = '', tail] = address.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  let headParts = parse(head);
  let tailParts = tail === undefined ? [] : parse(tail);
  // An embedded IPv4 suffix (::ffff:1.2.3.4) takes two groups; it only affects the last 64 bits.
  const expandV4 = (parts: string[]) =>
    parts.flatMap((part) => (part.includes('.') ? ['0', '0'] : [part]));
  headParts = expandV4(headParts);
  tailParts = expandV4(tailParts);
  const missing = 8 - headParts.length - tailParts.length;
  const groups = [...headParts, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tailParts];

  return groups.map((group) => Number.parseInt(group, 16));
}

/**
 * Returns the part of a client address that identifies one network: IPv4 addresses as they are, IPv6
 * addresses cut to their /64 prefix, because one subscriber usually gets a whole /64 and could
 * otherwise rotate through 2^64 addresses.
 */
export function clientNetwork(ip: string | null): string {
  if (!ip) return 'unknown';
  const groups = ipv6Groups(ip);
  if (!groups) return ip;

  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/**
 * Returns an address in one spelling, so that exemption lists match however an address is
 * written. IPv6 becomes compressed and lower-case, as the WHATWG URL serializer writes it.
 */
export function canonicalAddress(ip: string): string {
  return isIPv6(ip) ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** Returns the caller part of a bucket key: the user id, or the client network for anonymous callers. */
export function rateLimitSubject(userId: string | null, ip: string | null): string {
  return userId ? `user:${userId}` : `ip:${clientNetwork(ip)}`;
}
