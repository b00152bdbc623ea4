import { isIP } from 'node:net';
import type { RequestOrigin } from './audit/audit-log.js';
import type { ServerContext } from './context.js';

const maxUserAgentLength = 512;

/** Normalizes a socket address: IPv4-mapped IPv6 addresses become plain IPv4. */
export function normalizeIp(address: string | undefined): string | null {
  if (!address) return null;
  const unmapped = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;

  return isIP(unmapped) ? unmapped.toLowerCase() : null;
}

/** Reads who sent a request: the socket address and the User-Agent header, cut to 512 characters. */
export function requestOrigin(request: Request, serverContext: ServerContext): RequestOrigin {
  const userAgent = request.headers.get('user-agent');

  return {
    ip: normalizeIp(serverContext.req?.socket.remoteAddress),
    userAgent: userAgent ? userAgent.slice(0, maxUserAgentLength) : null,
  };
}
