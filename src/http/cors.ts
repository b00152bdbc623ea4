import type { CORSOptions } from 'graphql-yoga';

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
      allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'x-graphql-yoga-csrf'],
      exposedHeaders: ['x-request-id'],
      maxAge: 600,
    };
  };
}
