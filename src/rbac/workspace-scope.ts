import type { GatehouseContext } from '../context.js';
import { isPlatformAdmin } from '../auth/platform-admin.js';
import { callerRoles, requireActor } from './caller-access.js';
import { workspaceNotFoundError } from './errors.js';
import { hasAtLeast, type WorkspaceRole } from './roles.js';
import { isUuid } from './workspace-access.js';

/** Parameter of the `workspaceRole` auth scope: the workspace and the least role that passes. */
export interface WorkspaceRoleScope {
  workspaceId: string;
  role: WorkspaceRole;
}

/**
 * Checks the `workspaceRole` scope: passes for members with at least the role and for platform admins.
 * A member with a lower role fails, which the builder turns into FORBIDDEN. A caller who is not
 * a member gets NOT_FOUND, the same error as for a workspace that does not exist. Both denials
 * are audited, rate limited per user and workspace.
 */
export async function checkWorkspaceRole(context: GatehouseContext, scope: WorkspaceRoleScope): Promise<boolean> {
  const roles = await callerRoles(context);
  if (!roles) return false;
  const heldRole = isUuid(scope.workspaceId) ? roles.get(scope.workspaceId.toLowerCase()) : undefined;
  if (hasAtLeast(heldRole, scope.role)) return true;
  // The platform-admin flag is read from the database, so only checks that the role fails pay for it.
  if (await isPlatformAdmin(context)) return true;
  if (isUuid(scope.workspaceId)) {
    const actor = await requireActor(context);
    await context.services.rbac.denials.record(actor, scope.workspaceId, scope.role, heldRole ? 'role_insufficient' : 'not_a_member');
  }
  if (!heldRole) throw workspaceNotFoundError();

  return false;
}
