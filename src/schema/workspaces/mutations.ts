import type { GatehouseContext } from '../../context.js';
import { forgetCallerAccess, requireActor } from '../../rbac/caller-access.js';
import type { WorkspaceRole } from '../../rbac/roles.js';
import { builder } from '../builder.js';
import { RoleEnum, WorkspaceMemberRef, WorkspaceRef } from './types.js';

const WorkspaceInput = builder.inputType('WorkspaceInput', {
  fields: (t) => ({
    name: t.string({ description: '1 to 100 characters. Required when creating.' }),
    slug: t.string({
      description: '1 to 63 lower-case letters, digits and inner hyphens, unique. Derived from the name when omitted.',
    }),
  }),
});

/** The workspaceRole scope for a mutation's workspaceId argument. */
const needs = (role: WorkspaceRole) => (_root: unknown, args: { workspaceId: string | number }) => ({
  workspaceRole: { workspaceId: String(args.workspaceId), role },
});

/**
 * Runs a change as the caller, then drops the roles it may have altered: the caller's for the
 * rest of this operation, and the cached entries of this instance, of the caller alone or of
 * everyone when other members changed. The database also notifies every instance, but that
 * arrives a moment later, and the next request to this instance must already see the change.
 */
async function change<T>(
  context: GatehouseContext,
  fn: (actor: Awaited<ReturnType<typeof requireActor>>) => Promise<T>,
  changes: 'caller' | 'members' = 'members',
) {
  const actor = await requireActor(context);
  const result = await fn(actor);
  forgetCallerAccess(context);
  if (changes === 'caller') context.services.rbac.access.forget(actor.userId!);
  else context.services.rbac.access.forgetAll();

  return result;
}

builder.mutationField('createWorkspace', (t) =>
  t.field({
    type: WorkspaceRef,
    authScopes: { authenticated: true },
    description: 'Creates a workspace. The caller becomes its owner.',
    args: { input: t.arg({ type: WorkspaceInput, required: true }) },
    resolve: (_root, args, context) => change(context, (actor) => context.services.rbac.workspaces.create(actor, args.input), 'caller'),
  }),
);

builder.mutationField('updateWorkspace', (t) =>
  t.field({
    type: WorkspaceRef,
    description: 'Renames a workspace or changes its slug. Needs ADMIN or more.',
    args: { workspaceId: t.arg.id({ required: true }), input: t.arg({ type: WorkspaceInput, required: true }) },
    authScopes: needs('admin'),
    resolve: (_root, args, context) =>
      change(context, (actor) => context.services.rbac.workspaces.update(actor, String(args.workspaceId), args.input), 'caller'),
  }),
);

builder.mutationField('deleteWorkspace', (t) =>
  t.boolean({
    description: 'Deletes a workspace and every membership in it. Needs OWNER.',
    args: { workspaceId: t.arg.id({ required: true }) },
    authScopes: needs('owner'),
    resolve: (_root, args, context) =>
      change(context, async (actor) => {
        await context.services.rbac.workspaces.delete(actor, String(args.workspaceId));
        return true;
      }),
  }),
);

builder.mutationField('addMember', (t) =>
  t.field({
    type: WorkspaceMemberRef,
    description:
      'Adds the account with this email. Needs ADMIN or more, and the role must be below your own unless you are OWNER. An email that cannot be added gets NOT_FOUND with one fixed message.',
    args: {
      workspaceId: t.arg.id({ required: true }),
      email: t.arg.string({ required: true }),
      role: t.arg({ type: RoleEnum, required: true }),
    },
    authScopes: needs('admin'),
    resolve: (_root, args, context) =>
      change(context, (actor) =>
        context.services.rbac.members.add(actor, String(args.workspaceId), args.email, args.role),
      ),
  }),
);

builder.mutationField('changeMemberRole', (t) =>
  t.field({
    type: WorkspaceMemberRef,
    description:
      'Changes a member\'s role. Both the old and the new role must be below your own unless you are OWNER. Nobody raises their own role, and the last owner cannot be demoted (LAST_OWNER).',
    args: {
      workspaceId: t.arg.id({ required: true }),
      memberId: t.arg.id({ required: true }),
      role: t.arg({ type: RoleEnum, required: true }),
    },
    authScopes: needs('admin'),
    resolve: (_root, args, context) =>
      change(context, (actor) =>
        context.services.rbac.members.changeRole(actor, String(args.workspaceId), String(args.memberId), args.role),
      ),
  }),
);

builder.mutationField('removeMember', (t) =>
  t.boolean({
    description: 'Removes a member whose role is below your own (any member for an OWNER). The last owner stays (LAST_OWNER).',
    args: { workspaceId: t.arg.id({ required: true }), memberId: t.arg.id({ required: true }) },
    authScopes: needs('admin'),
    resolve: (_root, args, context) =>
      change(context, async (actor) => {
        await context.services.rbac.members.remove(actor, String(args.workspaceId), String(args.memberId));
        return true;
      }),
  }),
);

builder.mutationField('leaveWorkspace', (t) =>
  t.boolean({
    description: 'Ends your own membership. The last owner cannot leave (LAST_OWNER).',
    args: { workspaceId: t.arg.id({ required: true }) },
    authScopes: needs('viewer'),
    resolve: (_root, args, context) =>
      change(context, async (actor) => {
        await context.services.rbac.members.leave(actor, String(args.workspaceId));
        return true;
      }, 'caller'),
  }),
);

builder.mutationField('transferOwnership', (t) =>
  t.field({
    type: WorkspaceMemberRef,
    description: 'Makes a member OWNER. Needs OWNER, and you become ADMIN.',
    args: { workspaceId: t.arg.id({ required: true }), memberId: t.arg.id({ required: true }) },
    authScopes: needs('owner'),
    resolve: (_root, args, context) =>
      change(context, (actor) =>
        context.services.rbac.members.transferOwnership(actor, String(args.workspaceId), String(args.memberId)),
      ),
  }),
);
