import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatehouseContext } from '../context.js';

export interface ErrorLoggingOptions {
  /** True for an error raised on purpose, which goes to the client and is not logged. */
  isDeliberate: (error: unknown) => boolean;
  /** Receives each error logged here, so Yoga's logger can skip it instead of logging it twice. */
  logged: WeakSet<object>;
}

/**
 * Logs each unexpected error of an execution result with the request's logger, as
 * 'request failed' with the error in `err`, so the line carries the request id. Yoga masks these
 * errors in its own onExecuteDone, which runs after those of the plugins passed to createYoga
 * (graphql-yoga 5.24), so this hook receives the error before it is masked. Errors raised outside
 * execution, such as while building the context, are logged by Yoga's logger without the id.
 */
export function useErrorLogging(options: ErrorLoggingOptions): Plugin<GatehouseContext> {
  const { isDeliberate, logged } = options;
  // One shared hook object, so an execution allocates nothing here.
  const hooks = {
    onExecuteDone({ args, result }: { args: { contextValue: unknown }; result: ExecutionResult | AsyncIterable<unknown> }) {
      if (Symbol.asyncIterator in result || !result.errors) return;
      const context = args.contextValue as GatehouseContext;
      for (const error of result.errors) {
        if (isDeliberate(error) || logged.has(error)) continue;
        logged.add(error);
        context.logger.error({ err: error }, 'request failed');
      }
    },
  };

  return { onExecute: () => hooks };
}
