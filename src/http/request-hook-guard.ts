import type { Plugin } from 'graphql-yoga';
import { isDeliberateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { requestIdFrom } from '../observability/request-context.js';
import { requestIdOf } from '../plugins/use-request-id.js';

export interface RequestHookGuardOptions {
  logger: Logger;
  /** Returns the error the client gets for a caught one: Yoga's `maskError` option. */
  maskError(error: unknown): Error;
}

type OnRequestHook = NonNullable<Plugin['onRequest']>;
type OnRequestPayload = Parameters<OnRequestHook>[0];

/** Returns the JSON error response of a masked error, with the status and headers it names. */
function errorResponse(masked: Error, fetchAPI: OnRequestPayload['fetchAPI']): Response {
  const extensions = (masked as { extensions?: { code?: unknown; http?: { status?: number; headers?: Record<string, string> } } })
    .extensions;
  const body = { errors: [{ message: masked.message, extensions: { code: extensions?.code ?? 'INTERNAL_SERVER_ERROR' } }] };

  return new fetchAPI.Response(JSON.stringify(body), {
    status: extensions?.http?.status ?? 500,
    headers: { ...extensions?.http?.headers, 'content-type': 'application/json; charset=utf-8' },
  });
}

/** Wraps one onRequest hook so that an error it throws or rejects with ends the request cleanly. */
function guard(hook: OnRequestHook, options: RequestHookGuardOptions): OnRequestHook {
  const fail = (payload: OnRequestPayload, error: unknown) => {
    if (!isDeliberateError(error)) {
      const requestId = requestIdOf(payload.request) ?? requestIdFrom(payload.request.headers.get('x-request-id'));
      options.logger.error({ requestId, err: error }, 'request failed');
    }
    payload.endResponse(errorResponse(options.maskError(error), payload.fetchAPI));
  };

  return (payload) => {
    try {
      const pending = hook(payload);
      // Most hooks return nothing on the hot path, so only an asynchronous hook pays for a handler.
      return pending ? pending.then(undefined, (error: unknown) => fail(payload, error)) : pending;
    } catch (error) {
      fail(payload, error);
      return undefined;
    }
  };
}

/**
 * Returns `plugins` with each `onRequest` hook guarded. @whatwg-node/server 0.11 does not catch
 * an error of an onRequest hook. Node's adapter then responds with a 500 whose body is the
 * error's stack trace and skips every onResponse hook, so the response lacks X-Request-Id and the
 * security headers. A guarded hook logs the error as `request failed` with the request id, unless
 * it is a deliberate GraphQLError. It then ends the request with the masked error as JSON, and
 * the onResponse hooks run.
 *
 * NOTE: Yoga's own onRequest hooks (CORS, and GraphiQL, which calls createGraphiqlRenderer) run
 * before these plugins and stay unguarded, so an error there is neither logged nor masked.
 */
export function guardRequestHooks<T extends Plugin<any, any, any>>(plugins: T[], options: RequestHookGuardOptions): T[] {
  return plugins.map((plugin) =>
    plugin.onRequest ? { ...plugin, onRequest: guard(plugin.onRequest as OnRequestHook, options) } : plugin,
  );
}
