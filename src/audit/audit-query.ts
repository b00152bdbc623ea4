import type { AuditLog, Prisma, PrismaClient } from '../generated/prisma/client.js';
import { badUserInputError } from '../errors.js';
import { decodeCursor, encodeCursor } from './audit-cursor.js';

export interface AuditLogFilter {
  action?: string | null;
  actorId?: string | null;
  targetId?: string | null;
  workspaceId?: string | null;
  ip?: string | null;
  since?: Date | null;
  until?: Date | null;
}

export interface AuditPage {
  edges: { cursor: string; node: AuditLog }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const defaultPageSize = 20;
export const maxPageSize = 100;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkUuid(field: string, value: string | null | undefined): void {
  if (value != null && !uuidPattern.test(value)) throw badUserInputError(field, `${field} must be a UUID.`);
}

/** Rejects NUL, which PostgreSQL text cannot store, because the query would fail instead of matching nothing. */
function checkText(field: string, value: string | null | undefined): void {
  if (value?.includes('\0')) throw badUserInputError(field, `${field} must not contain the NUL character.`);
}

/** Checks `first` and the filter, throwing BAD_USER_INPUT on the field at fault. */
export function checkPageRequest(filter: AuditLogFilter, first: number | null | undefined): number {
  const size = first ?? defaultPageSize;
  if (size < 1 || size > maxPageSize) {
    throw badUserInputError('first', `first must be between 1 and ${maxPageSize}.`);
  }
  checkUuid('filter.actorId', filter.actorId);
  checkUuid('filter.workspaceId', filter.workspaceId);
  checkText('filter.action', filter.action);
  checkText('filter.targetId', filter.targetId);
  checkText('filter.ip', filter.ip);
  if (filter.since && filter.until && filter.since > filter.until) {
    throw badUserInputError('filter.since', 'filter.since must not be after filter.until.');
  }

  return size;
}

function whereOf(filter: AuditLogFilter): Prisma.AuditLogWhereInput {
  const createdAt: Prisma.DateTimeFilter = {};
  if (filter.since) createdAt.gte = filter.since;
  if (filter.until) createdAt.lte = filter.until;

  return {
    ...(filter.action != null && { action: filter.action }),
    ...(filter.actorId != null && { actorId: filter.actorId }),
    ...(filter.targetId != null && { targetId: filter.targetId }),
    ...(filter.workspaceId != null && { workspaceId: filter.workspaceId }),
    ...(filter.ip != null && { ip: filter.ip }),
    ...((filter.since || filter.until) && { createdAt }),
  };
}

/**
 * Reads one page of audit events, newest first, ordered by (created_at desc, id desc) so that
 * events with equal timestamps keep a stable order and a cursor never skips or repeats one.
 */
export async function readAuditPage(
  prisma: PrismaClient,
  filter: AuditLogFilter,
  first: number,
  after: string | null | undefined,
): Promise<AuditPage> {
  const where = whereOf(filter);
  if (after) {
    const cursor = decodeCursor(after);
    where.AND = {
      OR: [
        { createdAt: { lt: cursor.createdAt } },
        { createdAt: cursor.createdAt, id: { lt: cursor.id } },
      ],
    };
  }
  // One extra row shows whether another page follows.
  const rows = await prisma.auditLog.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: first + 1,
  });
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: encodeCursor(node), node }));

  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}
