import { auditActions } from '../../audit/audit-log.js';
import { emailProblem, normalizeEmail } from '../../auth/email.js';
import { withUserScope, type ScopedClient } from '../../db/rls.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { commandLineActor } from '../actor.js';
import type { WorkspaceRole } from '../roles.js';
import { countOwners, isUuid } from '../workspace-access.js';
import { recordWorkspaceEvent } from '../workspace-audit.js';
import type { ImportRow } from './read-rows.js';
import { mapLegacyRole, type RoleMap } from './role-map.js';

/** Outcome of one row: a change, nothing to do, or the reason it was skipped. */
export type RowOutcome =
  | { line: number; kind: 'add' | 'change' | 'unchanged'; workspace: string; email: string; role: WorkspaceRole; from?: WorkspaceRole }
  | { line: number; kind: 'skipped'; workspace: string; email: string; reason: string };

export interface ImportReport {
  outcomes: RowOutcome[];
  dryRun: boolean;
}

/** Thrown to roll back the transaction of a dry run, carrying its report. */
class DryRunRollback extends Error {
  constructor(readonly outcomes: RowOutcome[]) {
    super('dry run');
  }
}

/**
 * Applies import rows in one transaction with platform-admin rights: all rows that can be
 * applied are written together, or none if the database fails. A dry run runs the same code
 * and rolls back, so its report is exactly what a real run would do. Rows already in place
 * change nothing, which makes a second run a no-op.
 */
export async function importMembers(
  prisma: PrismaClient,
  rows: readonly ImportRow[],
  roleMap: RoleMap,
  dryRun: boolean,
): Promise<ImportReport> {
  try {
    const outcomes = await withUserScope(
      prisma,
      commandLineActor,
      async (tx) => {
        const outcomes = await applyRows(tx, rows, roleMap);
        if (dryRun) throw new DryRunRollback(outcomes);
        return outcomes;
      },
      { timeout: 120_000 },
    );

    return { outcomes, dryRun };
  } catch (error) {
    if (error instanceof DryRunRollback) return { outcomes: error.outcomes, dryRun };
    throw error;
  }
}

async function applyRows(tx: ScopedClient, rows: readonly ImportRow[], roleMap: RoleMap): Promise<RowOutcome[]> {
  const seen = new Map<string, number>();
  const outcomes: RowOutcome[] = [];
  for (const row of rows) {
    const skip = (reason: string): RowOutcome => ({ line: row.line, kind: 'skipped', workspace: row.workspace, email: row.email, reason });
    const role = mapLegacyRole(roleMap, row.legacyRole);
    if (!role) {
      outcomes.push(skip(`unknown role "${row.legacyRole}": add it to the role map`));
      continue;
    }
    const workspace = await findWorkspace(tx, row.workspace);
    if (!workspace) {
      outcomes.push(skip('unknown workspace'));
      continue;
    }
    const email = normalizeEmail(row.email);
    const user = emailProblem(email) ? null : await tx.user.findUnique({ where: { email }, select: { id: true } });
    if (!user) {
      outcomes.push(skip('unknown user'));
      continue;
    }
    const key = `${workspace.id}:${user.id}`;
    if (seen.has(key)) {
      outcomes.push(skip(`same workspace and user as line ${seen.get(key)}`));
      continue;
    }
    seen.set(key, row.line);
    outcomes.push(await applyRow(tx, row, workspace.id, user.id, role));
  }

  return outcomes;
}

async function applyRow(
  tx: ScopedClient,
  row: ImportRow,
  workspaceId: string,
  userId: string,
  role: WorkspaceRole,
): Promise<RowOutcome> {
  const base = { line: row.line, workspace: row.workspace, email: row.email, role };
  const metadata = { via: 'import', legacyRole: row.legacyRole, line: row.line };
  await tx.$queryRaw`SELECT lock_workspace(${workspaceId}::uuid)::text`;
  const existing = await tx.workspaceMember.findUnique({ where: { workspaceId_userId: { workspaceId, userId } } });
  if (existing?.role === role) return { ...base, kind: 'unchanged' };
  if (!existing) {
    const member = await tx.workspaceMember.create({ data: { workspaceId, userId, role }, select: { id: true } });
    await recordWorkspaceEvent(tx, commandLineActor, auditActions.roleGranted, workspaceId, userId, { ...metadata, memberId: member.id, role });
    return { ...base, kind: 'add' };
  }
  if (existing.role === 'owner' && (await countOwners(tx, workspaceId)) < 2) {
    return { line: row.line, kind: 'skipped', workspace: row.workspace, email: row.email, reason: 'the last owner cannot be demoted' };
  }
  await tx.workspaceMember.update({ where: { id: existing.id }, data: { role } });
  await recordWorkspaceEvent(tx, commandLineActor, auditActions.roleChanged, workspaceId, userId, {
    ...metadata,
    memberId: existing.id,
    from: existing.role,
    to: role,
  });

  return { ...base, kind: 'change', from: existing.role };
}

/** Finds a workspace by id or by slug. Slugs are never UUID-shaped, so the two cannot clash. */
function findWorkspace(tx: ScopedClient, reference: string) {
  const where = isUuid(reference) ? { id: reference.toLowerCase() } : { slug: reference.toLowerCase() };

  return reference === '' ? Promise.resolve(null) : tx.workspace.findUnique({ where, select: { id: true } });
}
