import { randomUUID } from 'node:crypto';

// Letters, digits, ".", "_", ":" and "-", at most 64 characters: safe in a log line and a header.
const safeRequestId = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Returns the client's X-Request-Id when it is a short safe token, so a proxy's id follows the
 * request, and a new random UUID otherwise.
 */
export function requestIdFrom(header: string | null): string {
  return header !== null && safeRequestId.test(header) ? header : randomUUID();
}
