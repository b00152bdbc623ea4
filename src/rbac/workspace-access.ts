import type { ScopedClient } from '../db/rls.js';
import type { Actor } from './actor.js';
import { workspaceNotFoundError } from './errors.js';
import type { WorkspaceRole } from './roles.js';

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID in its text form. Other ids cannot name a row, so they are never sent to SQL. */
export function isUuid(value: string): boolean {
  return uuidShape.test(value);
}

/** The actor's standing in a workspace whose member lock the transaction holds. */
export interface WorkspaceStanding {
  /** Null for a platform admin who is not a member. */
  role: WorkspaceRole | null;
  memberId: string | null;
}

/**
 * Locks the workspace's members for this transaction and returns the actor's role in it. A
 * workspace the actor cannot see, because it does not exist or they are not in it, raises the
 * same NOT_FOUND.
 */
export async function openWorkspace(tx: ScopedClient, actor: Actor, workspaceId: string): Promise<WorkspaceStanding> {
  if (!isUuid(workspaceId)) throw workspaceNotFoundError();
  await tx.$queryRaw`SELECT lock_workspace(${workspaceId}::uuid)::text`;
  const workspace = await tx.workspace.findUnique({ where: { id: workspaceId }, select: { id: true } });
  if (!workspace) throw workspaceNotFoundError();
  const membership = actor.userId
    ? await tx.workspaceMember.findUnique({
        where: { workspaceId_userId: { workspaceId, userId: actor.userId } },
        select: { id: true, role: true },
      })
    : null;
  if (!membership && !actor.isPlatformAdmin) throw workspaceNotFoundError();

  return { role: membership?.role ?? null, memberId: membership?.id ?? null };
}

/** Number of owners of a workspace, read inside the member lock. */
export function countOwners(tx: ScopedClient, workspaceId: string): Promise<number> {
  return tx.workspaceMember.count({ where: { workspaceId, role: 'owner' } });
}
