import { badUserInputError } from '../errors.js';

/**
 * The workspace roles from least to most access, and the one definition of them. The GraphQL
 * `Role` enum, the Pothos `workspaceRole` scope and the rule checks read this list. The SQL
 * function workspace_role_rank() in the workspaces migration repeats its ranks, and
 * test/rbac/roles.test.ts fails when the two differ.
 */
export const workspaceRoles = ['viewer', 'editor', 'admin', 'owner'] as const;

export type WorkspaceRole = (typeof workspaceRoles)[number];

/** Rank of each role: 1 for viewer up to 4 for owner. A higher rank includes every lower one. */
export const roleRanks: Readonly<Record<WorkspaceRole, number>> = Object.freeze(
  Object.fromEntries(workspaceRoles.map((role, index) => [role, index + 1])) as Record<WorkspaceRole, number>,
);

export function isWorkspaceRole(value: unknown): value is WorkspaceRole {
  return typeof value === 'string' && (workspaceRoles as readonly string[]).includes(value);
}

/** Parses a role name such as "admin", raising BAD_USER_INPUT for anything else. */
export function parseWorkspaceRole(value: string, field = 'role'): WorkspaceRole {
  if (isWorkspaceRole(value)) return value;
  throw badUserInputError(field, `Unknown role "${value}". Use one of: ${workspaceRoles.join(', ')}.`);
}

/** True when `held` includes `minimum`. A missing role includes nothing. */
export function hasAtLeast(held: WorkspaceRole | null | undefined, minimum: WorkspaceRole): boolean {
  return held != null && roleRanks[held] >= roleRanks[minimum];
}

/** Rights of an actor in one workspace: the role (null when not a member) and platform-admin status. */
export interface RoleHolder {
  role: WorkspaceRole | null;
  isPlatformAdmin: boolean;
}

/**
 * True when the actor may grant, change or revoke `target`: platform admins and owners for
 * every role, admins only for roles below their own, everyone else for none. The SQL function
 * can_grant_workspace_role() enforces the same rule in the database.
 */
export function canGrantRole(actor: RoleHolder, target: WorkspaceRole): boolean {
  if (actor.isPlatformAdmin || actor.role === 'owner') return true;
  if (!hasAtLeast(actor.role, 'admin')) return false;

  return roleRanks[target] < roleRanks[actor.role!];
}
