import type { Workspace } from '../../generated/prisma/client.js';
import { callerRoles, requireActor } from '../../rbac/caller-access.js';
import type { MemberView } from '../../rbac/member-view.js';
import { roleRanks, workspaceRoles, type WorkspaceRole } from '../../rbac/roles.js';
import { builder } from '../builder.js';

// Built from the one role list in src/rbac/roles.ts, so the enum cannot drift from the ranks.
const roleValues = Object.fromEntries(
  workspaceRoles.map((role) => [role.toUpperCase(), { value: role, description: `Rank ${roleRanks[role]}.` }]),
) as Record<Uppercase<WorkspaceRole>, { value: WorkspaceRole; description: string }>;

export const RoleEnum = builder.enumType('Role', {
  description: 'A workspace role. Each role includes the rights of every role below it: VIEWER < EDITOR < ADMIN < OWNER.',
  values: roleValues,
});

export const WorkspaceMemberRef = builder.objectRef<MemberView>('WorkspaceMember').implement({
  description: 'One user\'s membership in a workspace.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The membership id, used by changeMemberRole, removeMember and transferOwnership.' }),
    userId: t.exposeID('userId'),
    email: t.exposeString('email'),
    displayName: t.exposeString('displayName'),
    role: t.field({ type: RoleEnum, resolve: (member) => member.role }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const WorkspaceRef = builder.objectRef<Workspace>('Workspace').implement({
  description: 'A group of users with roles. Only its members and platform admins can see it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    myRole: t.field({
      type: RoleEnum,
      nullable: true,
      description: "The caller's role, or null for a platform admin who is not a member.",
      resolve: async (workspace, _args, context) => (await callerRoles(context))?.get(workspace.id) ?? null,
    }),
    members: t.field({
      type: [WorkspaceMemberRef],
      description: 'Every member, owners first. Needs VIEWER or more.',
      authScopes: (workspace) => ({ workspaceRole: { workspaceId: workspace.id, role: 'viewer' } }),
      resolve: async (workspace, _args, context) =>
        context.services.rbac.members.list(await requireActor(context), workspace.id),
    }),
  }),
});
