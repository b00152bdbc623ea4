import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { requestIdFrom } from '../observability/request-context.js';
import { loggedErrors, originalOfMaskedError } from './use-error-logging.js';
import { requestIdOf } from './use-request-id.js';

export interface RequestFailureLoggingOptions {
  logger: Logger;
  /**
   * Request header with the client's id, read for a request that failed before useRequestId
   * gave it one. Use the same header as useRequestId. @default x-request-id
   */
  header?: string;
}

type ResultErrors = readonly { extensions?: Record<string, unknown> }[];
type ResultLike = { errors?: ResultErrors; data?: unknown };

/** Error codes of a result without data, by request, kept until the response is sent. */
const rejectionCodes = new WeakMap<Request, string[]>();

/**
 * Writes, with the request id, the lines about requests that end before or outside GraphQL
 * execution, which Yoga either logs without a request or does not log:
 *
 * - `request failed` (error) for an unexpected error that Yoga masked outside execution, such as
 *   one thrown while the context is built (guardRequestHooks logs the errors of onRequest hooks);
 * - `request rejected` (info) for every 4xx response, with the status, the error codes and the
 *   path, such as malformed JSON, a body over MAX_BODY_BYTES, an unsupported method or media type;
 * - at the debug level, the parse and execution steps that Yoga logs as `yoga` lines.
 *
 * Each hook does a constant amount of work on a request that succeeds. Lines carry `requestId`
 * as a field, so no child logger is created, which matters at the debug level where every request
 * writes lines. Place it after useErrorCodes, so the codes are final.
 */
export function useRequestFailureLogging(options: RequestFailureLoggingOptions): Plugin {
  const { logger } = options;
  const header = options.header ?? 'x-request-id';
  const idOf = (request: Request) => requestIdOf(request) ?? requestIdFrom(request.headers.get(header));

  return {
    ...(logger.isLevelEnabled('debug') ? debugHooks(logger, idOf) : {}),
    onResultProcess({ request, result }) {
      if (Array.isArray(result)) {
        for (const item of result) inspectResult(item as ResultLike, request, logger, idOf);
      } else if (!(Symbol.asyncIterator in (result as object))) {
        inspectResult(result as ResultLike, request, logger, idOf);
      }
    },
    onResponse({ request, response }) {
      if (response.status < 400 || response.status >= 500) return;
      const codes = rejectionCodes.get(request) ?? [];
      const path = new URL(request.url, 'http://localhost').pathname.slice(0, 255);
      const line = { requestId: idOf(request), method: request.method, path, status: response.status, codes };
      logger.info(line, 'request rejected');
    },
  };
}

/** Logs the masked errors of a result and keeps its error codes for the `request rejected` line. */
function inspectResult(result: ResultLike, request: Request, logger: Logger, idOf: (request: Request) => string): void {
  if (!result.errors) return;
  for (const error of result.errors) {
    const original = originalOfMaskedError(error);
    if (original === undefined || loggedErrors.has(original)) continue;
    loggedErrors.add(original);
    logger.error({ requestId: idOf(request), err: original }, 'request failed');
  }
  const codes = result.errors.map((error) => String(error.extensions?.code ?? 'none'));
  rejectionCodes.set(request, [...(rejectionCodes.get(request) ?? []), ...codes]);
}

/** Returns the hooks that write, with the request id, the debug lines that Yoga writes without it. */
function debugHooks(logger: Logger, idOf: (request: Request) => string): Plugin {
  return {
    onRequestParse({ request }) {
      logger.debug({ requestId: idOf(request) }, 'parsing the request for GraphQL parameters');
    },
    onParams({ request }) {
      logger.debug({ requestId: idOf(request) }, 'processing GraphQL parameters');
    },
  };
}
