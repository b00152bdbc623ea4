import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { NoSchemaIntrospectionCustomRule, validate, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isPlatformAdmin } from '../auth/platform-admin.js';
import type { GatehouseContext } from '../context.js';
import { gatehouseError } from '../errors.js';
import { logUnexpectedError } from './use-error-logging.js';

export interface IntrospectionControlOptions {
  /**
   * Restrict introspection to platform admins and hide "Did you mean" field suggestions from
   * everyone. When false, anyone can read the whole schema. @default true
   */
  enabled?: boolean;
}

/** Stops the operation with GRAPHQL_VALIDATION_FAILED unless the caller is a platform admin. */
async function rejectUnlessAdmin(context: GatehouseContext, stop: (result: ExecutionResult) => void): Promise<void> {
  const admin = await isPlatformAdmin(context).catch((error: unknown) => {
    logUnexpectedError(context, error);
    throw error;
  });
  if (admin) return;
  context.logger?.info({ userId: context.identity?.userId ?? null }, 'introspection rejected');
  stop({
    errors: [gatehouseError('GRAPHQL_VALIDATION_FAILED', 'Introspection is disabled: only platform admins may read the schema.')],
  });
}

/**
 * Rejects introspection (`__schema`, `__type`) from callers who are not platform admins, and
 * removes field suggestions from validation errors, so anonymous callers cannot map the schema.
 * Introspection is checked when the operation executes, because validation runs before the
 * caller's access token is verified; `__typename` stays allowed. Suggestions are hidden for
 * admins too, because validation has no caller yet, and admins can introspect instead.
 */
export function useIntrospectionControl(options: IntrospectionControlOptions = {}): Plugin<GatehouseContext> {
  if (options.enabled === false) return {};
  // graphql-yoga's parser cache returns one document object per query text, so each distinct
  // operation is walked once instead of on every request.
  const introspects = new WeakMap<DocumentNode, boolean>();

  return {
    onPluginInit({ addPlugin }) {
      addPlugin(blockFieldSuggestionsPlugin());
    },
    // Synchronous unless the document introspects: a promise here would make every execution
    // wait for a microtask.
    onExecute({ args, setResultAndStopExecution }) {
      let found = introspects.get(args.document);
      if (found === undefined) {
        found = validate(args.schema, args.document, [NoSchemaIntrospectionCustomRule]).length > 0;
        introspects.set(args.document, found);
      }
      if (!found) return undefined;

      return rejectUnlessAdmin(args.contextValue, setResultAndStopExecution);
    },
  };
}
