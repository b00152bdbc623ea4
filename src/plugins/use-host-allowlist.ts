import type { Plugin } from 'graphql-yoga';
import { requestLogger, type Logger } from '../logger.js';
import { requestIdOf } from './use-request-id.js';

export interface HostAllowlistOptions {
  /**
   * Accepted Host header values, lower-case, as `host` or `host:port`. A bare host also accepts
   * any port. Empty accepts every host, which lets DNS rebinding and Host-header poisoning reach
   * the server; production configuration requires a list.
   */
  allowedHosts: readonly string[];
  logger: Logger;
}

/** True when the Host header names an allowed host. */
export function isHostAllowed(request: Request, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length === 0) return true;
  const host = (request.headers.get('host') ?? '').toLowerCase();
  const bare = host.replace(/:\d+$/, '');

  return allowedHosts.includes(host) || allowedHosts.includes(bare);
}

/** Rejects requests whose Host header is not in ALLOWED_HOSTS with 400 HOST_NOT_ALLOWED. */
export function useHostAllowlist(options: HostAllowlistOptions): Plugin {
  const { allowedHosts, logger } = options;

  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (isHostAllowed(request, allowedHosts)) return;
      const log = requestLogger(logger, { requestId: requestIdOf(request) });
      log.warn({ host: request.headers.get('host')?.slice(0, 255) ?? null }, 'request for a host not in ALLOWED_HOSTS rejected');
      const body = {
        errors: [
          {
            message: 'The Host header is not allowed. Send requests to a host listed in ALLOWED_HOSTS.',
            extensions: { code: 'HOST_NOT_ALLOWED' },
          },
        ],
      };
      endResponse(
        new fetchAPI.Response(JSON.stringify(body), {
          status: 400,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
      );
    },
  };
}
