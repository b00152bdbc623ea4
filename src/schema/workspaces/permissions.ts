import type { GatehouseContext } from '../../context.js';
import { badUserInputError, forbiddenError } from '../../errors.js';
import { requireActor } from '../../rbac/caller-access.js';
import { maxPermissionChecks, type PermissionResult } from '../../rbac/permission-service.js';
import type { WorkspaceRole } from '../../rbac/roles.js';
import { builder } from '../builder.js';
import { RoleEnum } from './types.js';

const PermissionReasonEnum = builder.enumType('PermissionReason', {
  description: 'Reason for the result of a permission check.',
  values: {
    ROLE_SUFFICIENT: { value: 'role_sufficient', description: 'The user has the role or a higher one.' },
    PLATFORM_ADMIN: { value: 'platform_admin', description: 'The user is a platform admin.' },
    ROLE_INSUFFICIENT: { value: 'role_insufficient', description: 'The user is a member with a lower role.' },
    NOT_A_MEMBER: {
      value: 'not_a_member',
      description:
        'The user is not a member or is disabled. A workspace that does not exist returns the same reason.',
    },
  } as const,
});

const PermissionResultRef = builder.objectRef<PermissionResult>('PermissionResult').implement({
  fields: (t) => ({
    allowed: t.exposeBoolean('allowed'),
    role: t.field({ type: RoleEnum, nullable: true, resolve: (result) => result.role }),
    reason: t.field({ type: PermissionReasonEnum, resolve: (result) => result.reason }),
  }),
});

const PermissionCheckInput = builder.inputType('PermissionCheckInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    minimumRole: t.field({ type: RoleEnum, required: true }),
    userId: t.id({ description: 'User whose permission to check, by default the caller. Checking another user needs a platform admin.' }),
  }),
});

interface CheckArgs {
  workspaceId: string | number;
  minimumRole: WorkspaceRole;
  userId?: string | number | null;
}

async function runChecks(context: GatehouseContext, checks: readonly CheckArgs[]): Promise<PermissionResult[]> {
  const actor = await requireActor(context);
  if (checks.length > maxPermissionChecks) {
    throw badUserInputError('checks', `Send at most ${maxPermissionChecks} checks per call.`);
  }
  const resolved = checks.map((check) => ({
    workspaceId: String(check.workspaceId),
    minimumRole: check.minimumRole,
    userId: check.userId == null ? actor.userId! : String(check.userId),
  }));
  if (!actor.isPlatformAdmin && resolved.some((check) => check.userId !== actor.userId)) throw forbiddenError();

  return context.services.rbac.permissions.check(actor, resolved);
}

builder.queryField('checkPermission', (t) =>
  t.field({
    type: PermissionResultRef,
    authScopes: { authenticated: true },
    description: 'Checks whether a user has at least a role in a workspace. Checking another user than the caller needs a platform admin.',
    args: {
      workspaceId: t.arg.id({ required: true }),
      minimumRole: t.arg({ type: RoleEnum, required: true }),
      userId: t.arg.id(),
    },
    resolve: async (_root, args, context) => (await runChecks(context, [args]))[0]!,
  }),
);

builder.queryField('checkPermissions', (t) =>
  t.field({
    type: [PermissionResultRef],
    authScopes: { authenticated: true },
    description: `Runs up to ${maxPermissionChecks} checks with one database query and returns the results in the order sent.`,
    args: { checks: t.arg({ type: [PermissionCheckInput], required: true }) },
    resolve: (_root, args, context) => runChecks(context, args.checks),
  }),
);
