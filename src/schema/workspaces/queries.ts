import { callerRoles, requireActor } from '../../rbac/caller-access.js';
import { isUuid } from '../../rbac/workspace-access.js';
import { builder } from '../builder.js';
import { RoleEnum, WorkspaceRef } from './types.js';

builder.queryField('workspaces', (t) =>
  t.field({
    type: [WorkspaceRef],
    authScopes: { authenticated: true },
    description: 'The workspaces the caller is a member of, by name.',
    resolve: async (_root, _args, context) => context.services.rbac.workspaces.listMine(await requireActor(context)),
  }),
);

builder.queryField('workspace', (t) =>
  t.field({
    type: WorkspaceRef,
    nullable: true,
    description: 'One workspace. NOT_FOUND when it does not exist or the caller is not a member.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, args) => ({ workspaceRole: { workspaceId: String(args.id), role: 'viewer' } }),
    resolve: async (_root, args, context) =>
      context.services.rbac.workspaces.get(await requireActor(context), String(args.id)),
  }),
);

builder.queryField('myRole', (t) =>
  t.field({
    type: RoleEnum,
    nullable: true,
    authScopes: { authenticated: true },
    description: "The caller's role in a workspace, or null when they are not a member or it does not exist.",
    args: { workspaceId: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const workspaceId = String(args.workspaceId).toLowerCase();
      if (!isUuid(workspaceId)) return null;

      return (await callerRoles(context))?.get(workspaceId) ?? null;
    },
  }),
);
