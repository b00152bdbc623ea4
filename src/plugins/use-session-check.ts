import type { Plugin } from 'graphql-yoga';
import { settleSessionCheck } from '../auth/session-check.js';
import type { GatehouseContext } from '../context.js';
import { logUnexpectedError } from './use-error-logging.js';

/**
 * Runs the deny-list check of the caller's session before execution when no earlier plugin ran
 * it, such as for a client exempt from rate limits. Install it after useRateLimits, which reads
 * the deny-list in its own Redis call. No resolver runs with an unchecked identity.
 */
export function useSessionCheck(): Plugin<GatehouseContext> {
  return {
    // Synchronous when nothing is pending, which is the case after useRateLimits ran the check.
    onExecute({ args }) {
      const context = args.contextValue as GatehouseContext;
      const pending = context.sessionCheck;
      if (!pending) return undefined;

      return context.services.sessions
        .revocationStatus(pending)
        .then((status) => settleSessionCheck(context, status))
        .then(
          () => undefined,
          (error: unknown) => {
            logUnexpectedError(context, error);
            throw error;
          },
        );
    },
  };
}
