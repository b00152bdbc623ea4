import { isWorkspaceRole, workspaceRoles, type WorkspaceRole } from '../roles.js';

/** Maps a legacy role name, lower-cased, to a role. Null marks a name as deliberately unmapped. */
export type RoleMap = ReadonlyMap<string, WorkspaceRole | null>;

/**
 * Legacy role names understood without a map file. The role names themselves map to
 * themselves, so files already written in Gatehouse's terms import as they are.
 */
export const defaultRoleMap: Readonly<Record<string, WorkspaceRole>> = {
  read: 'viewer',
  member: 'editor',
  manager: 'admin',
  ...Object.fromEntries(workspaceRoles.map((role) => [role, role])),
};

/** Thrown for a map file that is not a JSON object of names to roles or null. */
export class RoleMapError extends Error {
  override name = 'RoleMapError';
}

/**
 * Builds the role map: the defaults, then each entry of `overrides` replacing or adding one
 * name. A null value removes a default, so rows with that name are reported as unmapped.
 */
export function buildRoleMap(overrides: unknown = {}): RoleMap {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new RoleMapError('The role map must be a JSON object such as {"member": "editor"}.');
  }
  const map = new Map<string, WorkspaceRole | null>(Object.entries(defaultRoleMap));
  for (const [legacy, role] of Object.entries(overrides)) {
    if (role !== null && !isWorkspaceRole(role)) {
      throw new RoleMapError(
        `The role map sends "${legacy}" to ${JSON.stringify(role)}. Use one of ${workspaceRoles.join(', ')} or null.`,
      );
    }
    map.set(legacy.trim().toLowerCase(), role);
  }

  return map;
}

/** Returns the role for a legacy name, or undefined when the map has none. */
export function mapLegacyRole(map: RoleMap, legacy: string): WorkspaceRole | undefined {
  return map.get(legacy.trim().toLowerCase()) ?? undefined;
}
