import { checkPageRequest, maxPageSize, readAuditPage, type AuditLogFilter } from '../../audit/audit-query.js';
import { isPlatformAdmin } from '../../auth/platform-admin.js';
import type { GatehouseContext } from '../../context.js';
import { forbiddenError } from '../../errors.js';
import { builder } from '../builder.js';
import { AuditLogConnectionRef, AuditLogFilterInput } from './types.js';

/**
 * Platform admins read every event. Anyone else must name a workspace in the filter and be
 * allowed to read it by services.auditAccess; everyone else gets FORBIDDEN.
 */
async function checkAuditAccess(context: GatehouseContext, filter: AuditLogFilter): Promise<void> {
  if (await isPlatformAdmin(context)) return;
  const userId = context.identity!.userId;
  const workspaceId = filter.workspaceId;
  if (workspaceId && (await context.services.auditAccess.canReadWorkspace(userId, workspaceId))) return;
  context.logger.info({ userId, workspaceId: workspaceId ?? null }, 'audit log read rejected');
  throw forbiddenError();
}

builder.queryField('auditLogs', (t) =>
  t.field({
    type: AuditLogConnectionRef,
    authScopes: { authenticated: true },
    description: `Security events, newest first. Platform admins see all events; workspace admins and owners see their workspace's events and must set filter.workspaceId. \`first\` defaults to 20, at most ${maxPageSize}.`,
    args: {
      filter: t.arg({ type: AuditLogFilterInput }),
      first: t.arg.int(),
      after: t.arg.string({ description: 'endCursor of the previous page.' }),
    },
    resolve: async (_root, args, context) => {
      const filter: AuditLogFilter = { ...args.filter, actorId: args.filter?.actorId?.toString(), workspaceId: args.filter?.workspaceId?.toString() };
      const first = checkPageRequest(filter, args.first);
      await checkAuditAccess(context, filter);

      return readAuditPage(context.services.prisma, filter, first, args.after);
    },
  }),
);
