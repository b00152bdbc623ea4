/**
 * Decides which workspaces' audit events a user who is not a platform admin may read.
 */
export interface AuditAccess {
  /** True when the user is an admin or owner of the workspace. */
  canReadWorkspace(userId: string, workspaceId: string): Promise<boolean>;
}

/**
 * Grants no workspace access.
 * NOTE: there is no workspace membership table yet, so only platform admins can read audit
 * events. Once memberships exist, replace this with a lookup of the caller's role (admin or
 * owner) in workspace_members.
 */
export const noWorkspaceAccess: AuditAccess = {
  canReadWorkspace: () => Promise.resolve(false),
};
