import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { requestIdFrom } from '../observability/request-context.js';

export interface RequestIdOptions {
  logger: Logger;
  /** Response and request header carrying the id. @default x-request-id */
  header?: string;
}

// Keyed by the Request object, so an entry goes away with its request.
const requestIds = new WeakMap<Request, string>();

/**
 * Returns the id that useRequestId gave a request, for code that runs before the GraphQL context
 * exists. Undefined before useRequestId's onRequest ran, or without the plugin.
 */
export function requestIdOf(request: Request): string | undefined {
  return requestIds.get(request);
}

/**
 * Defines `context.logger` as a child logger that carries the request id. The child is created
 * on first access and kept, because `logger.child()` runs pino's redaction over the bindings and
 * most requests log nothing. The property is defined on the context itself: envelop's
 * `extendContext` copies with Object.assign, which would call a getter at once.
 */
function defineLazyLogger(context: object, logger: Logger, requestId: string): void {
  let child: Logger | undefined;
  Object.defineProperty(context, 'logger', {
    enumerable: true,
    configurable: true,
    get: () => (child ??= logger.child({ requestId })),
  });
}

/**
 * Gives each request an id: the client's X-Request-Id when it is a short safe token, else a
 * random UUID. The id goes back in the response header and on `context.requestId`, and
 * `context.logger` writes it on each line. Services log with the id through the `requestId` of
 * the request's origin (see requestLogger). Place this plugin first so later plugins find the id.
 */
export function useRequestId(options: RequestIdOptions): Plugin<{ requestId: string; logger: Logger }> {
  const header = options.header ?? 'x-request-id';

  return {
    onRequest({ request }) {
      requestIds.set(request, requestIdFrom(request.headers.get(header)));
    },
    onContextBuilding({ context, extendContext }) {
      let requestId = requestIds.get(context.request);
      if (requestId === undefined) {
        requestId = requestIdFrom(null);
        requestIds.set(context.request, requestId);
      }
      defineLazyLogger(context, options.logger, requestId);
      extendContext({ requestId });
    },
    onResponse({ request, response }) {
      const requestId = requestIds.get(request);
      if (requestId) response.headers.set(header, requestId);
    },
  };
}
