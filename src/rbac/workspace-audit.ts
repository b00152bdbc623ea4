import { auditRow, type AuditAction } from '../audit/audit-log.js';
import type { ScopedClient } from '../db/rls.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Actor } from './actor.js';

/**
 * Writes one audit event about a workspace in the caller's transaction. createMany sends no
 * RETURNING, so the row-level-security role needs only INSERT on audit_logs, never SELECT.
 */
export async function recordWorkspaceEvent(
  tx: Pick<ScopedClient, 'auditLog'>,
  actor: Actor,
  action: AuditAction,
  workspaceId: string,
  targetId: string | null,
  metadata: Prisma.InputJsonObject = {},
): Promise<void> {
  const row = auditRow(action, actor.userId, targetId, actor.sessionId, actor.origin, metadata);
  await tx.auditLog.createMany({ data: [{ ...row, workspaceId }] });
}
