import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** Per-request values that every log line written during the request carries. */
export interface RequestScope {
  requestId: string;
}

/** Holds the scope of the request whose code is running; the logger mixin reads it. */
export const requestScope = new AsyncLocalStorage<RequestScope>();

// Letters, digits, ".", "_", ":" and "-", at most 64 characters: safe in a log line and a header.
const safeRequestId = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Returns the client's X-Request-Id when it is a short safe token, so a proxy's id follows the
 * request, and a new random UUID otherwise.
 */
export function requestIdFrom(header: string | null): string {
  return header !== null && safeRequestId.test(header) ? header : randomUUID();
}
