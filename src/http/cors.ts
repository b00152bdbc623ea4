import type { CORSOptions } from 'graphql-yoga';

/**
 * Headers that exempt a GET or form-like request from Yoga's CSRF check. A cross-origin request
 * that carries one needs a preflight, so CORS must allow each one, or apps on listed origins
 * cannot send it.
 */
export const csrfRequestHeaders = ['x-graphql-yoga-csrf', 'apollo-require-preflight'];

/**
 * Builds Yoga's CORS option from the CORS_ORIGINS allow-list. A listed origin gets its own
 * origin back with credentials allowed. Any other origin gets no CORS headers at all, so the
 * browser blocks the response. An empty list allows no cross-origin access.
 */
export function corsFromAllowList(origins: readonly string[]): (request: Request) => CORSOptions {
  const allowed = new Set(origins);

  return (request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !allowed.has(origin)) return false;

    return {
      origin: [origin],
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id', ...csrfRequestHeaders],
      // Browsers hide every response header outside the CORS safelist unless it is listed here,
      // and apps read these to slow down before RATE_LIMITED and to wait after it.
      exposedHeaders: ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
      maxAge: 600,
    };
  };
}
