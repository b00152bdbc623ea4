import type { AuditLog } from '../../generated/prisma/client.js';
import type { AuditPage } from '../../audit/audit-query.js';
import { builder } from '../builder.js';
import { PageInfoRef } from '../pagination.js';

export const AuditLogEventRef = builder.objectRef<AuditLog>('AuditLogEvent').implement({
  description: 'One security event. docs/audit-log.md lists the actions.',
  fields: (t) => ({
    id: t.id({ resolve: (event) => event.id.toString() }),
    action: t.exposeString('action', { description: 'Stable action name, such as user.login_failed.' }),
    actorId: t.exposeID('actorId', { nullable: true, description: 'The user who acted, if known.' }),
    targetId: t.exposeString('targetId', { nullable: true, description: 'What the action affected, such as a user id.' }),
    sessionId: t.exposeID('sessionId', { nullable: true }),
    workspaceId: t.exposeID('workspaceId', { nullable: true }),
    ip: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    metadata: t.string({
      description: 'Extra details of the event as a JSON object string.',
      resolve: (event) => JSON.stringify(event.metadata ?? {}),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const AuditLogEdgeRef = builder.objectRef<AuditPage['edges'][number]>('AuditLogEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Opaque position; pass it as `after` to continue.' }),
    node: t.field({ type: AuditLogEventRef, resolve: (edge) => edge.node }),
  }),
});

export const AuditLogConnectionRef = builder.objectRef<AuditPage>('AuditLogConnection').implement({
  description: 'A page of audit events, newest first.',
  fields: (t) => ({
    edges: t.field({ type: [AuditLogEdgeRef], resolve: (page) => page.edges }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (page) => page.pageInfo }),
  }),
});

export const AuditLogFilterInput = builder.inputType('AuditLogFilter', {
  description: 'Every field given must match; omitted fields match everything.',
  fields: (t) => ({
    action: t.string(),
    actorId: t.id(),
    targetId: t.string(),
    workspaceId: t.id({ description: 'Required for callers who are workspace admins, not platform admins.' }),
    ip: t.string(),
    since: t.field({ type: 'DateTime', description: 'Events at or after this time.' }),
    until: t.field({ type: 'DateTime', description: 'Events at or before this time.' }),
  }),
});
