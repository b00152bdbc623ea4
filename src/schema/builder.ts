import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import type { GatehouseContext } from '../context.js';
import { forbiddenError, unauthenticatedError } from '../errors.js';
import { isPlatformAdmin } from '../auth/platform-admin.js';
import { checkWorkspaceRole, type WorkspaceRoleScope } from '../rbac/workspace-scope.js';
import { parseDateTime } from './date-time.js';

export interface AuthScopes {
  /** A caller with a valid access token of a live session. */
  authenticated: boolean;
  /** A signed-in platform admin whose account is not disabled; loads the user row once per request. */
  platformAdmin: boolean;
  /** A member of the workspace with at least the role, or a platform admin. */
  workspaceRole: WorkspaceRoleScope;
}

/** True when the failure, or every branch of it, is a missing sign-in. */
function needsSignIn(failure: AuthFailure): boolean {
  if (failure.kind === AuthScopeFailureType.AuthScope) return failure.scope === 'authenticated';
  if (
    failure.kind === AuthScopeFailureType.AnyAuthScopes ||
    failure.kind === AuthScopeFailureType.AllAuthScopes
  ) {
    return failure.failures.some(needsSignIn);
  }

  return false;
}

export const builder = new SchemaBuilder<{
  Context: GatehouseContext;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  Scalars: { DateTime: { Input: Date; Output: Date } };
}>({
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (context) => ({
      authenticated: context.identity !== null,
      platformAdmin: () => isPlatformAdmin(context),
      workspaceRole: (scope) => checkWorkspaceRole(context, scope),
    }),
    // Unauthenticated callers learn that they must sign in; others get one fixed message.
    unauthorizedError: (_parent, context, _info, result) =>
      needsSignIn(result.failure) || context.identity === null ? unauthenticatedError() : forbiddenError(),
  },
});

builder.scalarType('DateTime', {
  description: 'A point in time as an ISO 8601 string in UTC, such as 2026-01-31T12:00:00.000Z.',
  serialize: (value) => value.toISOString(),
  parseValue: parseDateTime,
});

builder.queryType({});
builder.mutationType({});
