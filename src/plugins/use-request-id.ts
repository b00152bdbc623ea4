import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { requestIdFrom, requestScope } from '../observability/request-context.js';

export interface RequestIdOptions {
  logger: Logger;
  /** Response and request header carrying the id. @default x-request-id */
  header?: string;
}

/**
 * Gives each request an id: the client's X-Request-Id when it is a short safe token, else a
 * random UUID. The id goes back in the response header, on `context.requestId`, and on every log
 * line of the request through `context.logger` and the logger's request scope. Place this plugin
 * first so later plugins log with the id.
 */
export function useRequestId(options: RequestIdOptions): Plugin<{ requestId: string; logger: Logger }> {
  const header = options.header ?? 'x-request-id';
  const ids = new WeakMap<Request, string>();

  return {
    onRequest({ request }) {
      const requestId = requestIdFrom(request.headers.get(header));
      ids.set(request, requestId);
      // enterWith scopes the id to the rest of this request's asynchronous work.
      requestScope.enterWith({ requestId });
    },
    onContextBuilding({ context, extendContext }) {
      const requestId = ids.get(context.request) ?? requestIdFrom(null);
      extendContext({ requestId, logger: options.logger.child({ requestId }) });
    },
    onResponse({ request, response }) {
      const requestId = ids.get(request);
      if (requestId) response.headers.set(header, requestId);
    },
  };
}
