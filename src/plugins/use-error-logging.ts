import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatehouseContext } from '../context.js';
import { isDeliberateError } from '../errors.js';

/** Errors already written with a request id, so Yoga's own logger skips them (see src/server.ts). */
export const loggedErrors = new WeakSet<object>();

/** Unexpected errors by the masked error that replaced them for the client. */
const originalsByMasked = new WeakMap<object, object>();
const maskedOriginals = new WeakSet<object>();

/**
 * Records that `masked` replaced `original`, so useRequestFailureLogging logs the original with
 * the request id when the masked error reaches a response, and Yoga's logger skips it. An error
 * that is not an object cannot be recorded, so Yoga's logger writes it without the id.
 */
export function rememberMaskedError(original: unknown, masked: object): void {
  if (typeof original !== 'object' || original === null) return;
  originalsByMasked.set(masked, original);
  maskedOriginals.add(original);
}

/** True for an error that rememberMaskedError recorded, whose line useRequestFailureLogging writes. */
export function isMaskedOriginal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && maskedOriginals.has(error);
}

/** Returns the error that `masked` replaced, or undefined for an error that was not masked. */
export function originalOfMaskedError(masked: object): object | undefined {
  return originalsByMasked.get(masked);
}

/**
 * Logs an unexpected error once with the request's logger, as 'request failed' with the error in
 * `err`, so the line carries the request id. Deliberate GraphQL errors go to the client and are
 * not logged. Call it where an execution hook catches an error before rethrowing it, because a
 * rejected hook stops execution and no onExecuteDone hook receives that error.
 */
export function logUnexpectedError(context: Pick<GatehouseContext, 'logger'>, error: unknown): void {
  if (isDeliberateError(error)) return;
  if (typeof error === 'object' && error !== null) {
    if (loggedErrors.has(error)) return;
    loggedErrors.add(error);
  }
  context.logger.error({ err: error }, 'request failed');
}

/**
 * Logs each unexpected error of an execution result through {@link logUnexpectedError}. Yoga masks
 * these errors in its own onExecuteDone, which runs after those of the plugins passed to
 * createYoga (graphql-yoga 5.24), so this hook receives the error before it is masked. Errors
 * raised outside execution, such as while building the context, are logged with the id by
 * useRequestFailureLogging.
 */
export function useErrorLogging(): Plugin<GatehouseContext> {
  // One shared hook object, so an execution allocates nothing here.
  const hooks = {
    onExecuteDone({ args, result }: { args: { contextValue: unknown }; result: ExecutionResult | AsyncIterable<unknown> }) {
      if (Symbol.asyncIterator in result || !result.errors) return;
      const context = args.contextValue as GatehouseContext;
      for (const error of result.errors) logUnexpectedError(context, error);
    },
  };

  return { onExecute: () => hooks };
}
