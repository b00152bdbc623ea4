import { RequestCache } from '@pothos/plugin-scope-auth';
import type { Plugin } from 'graphql-yoga';

/**
 * Deletes the scope cache of Pothos scope-auth when an operation's execution ends.
 *
 * scope-auth keeps that cache in a WeakMap keyed by the GraphQL context, and the cache refers
 * back to the context. Measured on Node 20, V8's minor collections keep such an entry alive after
 * its request has ended, so every request's context moved to the old generation until the next
 * full collection (docs/BENCHMARKS.md, step 18). No scope is evaluated after execution.
 */
export function useScopeCacheRelease(): Plugin {
  return {
    onExecute({ args }) {
      const context = args.contextValue;

      return {
        onExecuteDone({ result }) {
          if (!(Symbol.asyncIterator in result)) {
            RequestCache.clearForContext(context);
            return undefined;
          }

          return { onEnd: () => RequestCache.clearForContext(context) };
        },
      };
    },
  };
}
