import { gatehouseError } from '../errors.js';
import type { RateLimitStatus, RejectedOperationStatus } from './windows.js';

/**
 * RATE_LIMITED with HTTP 429, `retryAfter` in seconds and the matching Retry-After header. Yoga
 * copies `extensions.http.headers` onto the response.
 */
export function rateLimitedError(retryAfterSeconds: number, rateLimit?: RateLimitStatus | RejectedOperationStatus) {
  const error = gatehouseError(
    'RATE_LIMITED',
    `Rate limit exceeded. Retry after ${retryAfterSeconds} seconds.`,
    rateLimit ? { retryAfter: retryAfterSeconds, rateLimit } : { retryAfter: retryAfterSeconds },
  );
  error.extensions.http = { ...(error.extensions.http ?? {}), headers: { 'Retry-After': String(retryAfterSeconds) } };

  return error;
}
