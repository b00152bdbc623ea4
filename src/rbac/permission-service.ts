import { withUserScope } from '../db/rls.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Actor } from './actor.js';
import { hasAtLeast, isWorkspaceRole, type WorkspaceRole } from './roles.js';
import { isUuid } from './workspace-access.js';

export interface PermissionCheck {
  workspaceId: string;
  minimumRole: WorkspaceRole;
  userId: string;
}

/** Reason for a check's result. A missing workspace, a foreign one and a disabled user all give not_a_member. */
export type PermissionReason = 'role_sufficient' | 'platform_admin' | 'role_insufficient' | 'not_a_member';

export interface PermissionResult {
  allowed: boolean;
  role: WorkspaceRole | null;
  reason: PermissionReason;
}

/** Maximum number of checks in one checkPermissions call. */
export const maxPermissionChecks = 100;

interface Row {
  i: number;
  is_platform_admin: boolean | null;
  role: string | null;
  disabled: boolean | null;
}

/**
 * Runs permission checks in one SQL query, whatever their number, inside a transaction
 * scoped to the actor, so row-level security limits what the query can read.
 */
export class PermissionService {
  constructor(private readonly prisma: PrismaClient) {}

  async check(actor: Actor, checks: readonly PermissionCheck[]): Promise<PermissionResult[]> {
    const valid = checks
      .map((check, i) => ({ i, user_id: check.userId, workspace_id: check.workspaceId }))
      .filter((pair) => isUuid(pair.user_id) && isUuid(pair.workspace_id));
    const rows = valid.length === 0 ? [] : await this.load(actor, JSON.stringify(valid));
    const byIndex = new Map(rows.map((row) => [row.i, row]));

    return checks.map((check, i) => decide(check.minimumRole, byIndex.get(i)));
  }

  private load(actor: Actor, pairs: string): Promise<Row[]> {
    return withUserScope(this.prisma, actor, (tx) =>
      tx.$queryRaw<Row[]>`
        SELECT c.i, u.is_platform_admin, m.role::text AS role, u.disabled
        FROM jsonb_to_recordset(${pairs}::jsonb) AS c(i integer, user_id uuid, workspace_id uuid)
        LEFT JOIN users u ON u.id = c.user_id
        LEFT JOIN workspace_members m ON m.workspace_id = c.workspace_id AND m.user_id = c.user_id`,
    );
  }
}

function decide(minimumRole: WorkspaceRole, row: Row | undefined): PermissionResult {
  // A disabled user has no permission. The result equals a non-member's, so it does not reveal
  // whether the account or its membership exists.
  if (row?.disabled) return { allowed: false, role: null, reason: 'not_a_member' };
  const role = isWorkspaceRole(row?.role) ? row.role : null;
  if (hasAtLeast(role, minimumRole)) return { allowed: true, role, reason: 'role_sufficient' };
  if (row?.is_platform_admin) return { allowed: true, role, reason: 'platform_admin' };

  return { allowed: false, role, reason: role ? 'role_insufficient' : 'not_a_member' };
}
