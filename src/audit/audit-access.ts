import type { PermissionService } from '../rbac/permission-service.js';

/**
 * Decides which workspaces' audit events a user who is not a platform admin may read.
 */
export interface AuditAccess {
  /** True when the user is an admin or owner of the workspace. */
  canReadWorkspace(userId: string, workspaceId: string): Promise<boolean>;
}

/** Grants a workspace's audit events to its admins and owners, read from workspace_members. */
export function membershipAuditAccess(permissions: PermissionService): AuditAccess {
  return {
    async canReadWorkspace(userId, workspaceId) {
      const actor = { userId, sessionId: null, isPlatformAdmin: false, origin: { ip: null, userAgent: null } };
      const [result] = await permissions.check(actor, [{ workspaceId, minimumRole: 'admin', userId }]);

      return result?.allowed === true;
    },
  };
}
