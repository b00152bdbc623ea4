import type { Prisma } from '../generated/prisma/client.js';

/**
 * Action names written to the audit log. Names are stable: admins filter on them and alert
 * rules match them.
 */
export const auditActions = {
  userRegistered: 'user.registered',
  loginSucceeded: 'user.login_succeeded',
  loginFailed: 'user.login_failed',
  tokenRefreshed: 'token.refreshed',
  tokenReuseDetected: 'token.reuse_detected',
  loggedOut: 'user.logged_out',
  loggedOutEverywhere: 'user.logged_out_everywhere',
  sessionRevoked: 'session.revoked',
  passwordChanged: 'user.password_changed',
  passwordChangeFailed: 'user.password_change_failed',
  passwordSetByAdmin: 'user.password_set_by_admin',
  userDisabled: 'user.disabled',
  userEnabled: 'user.enabled',
  rateLimitExceeded: 'rate_limit.exceeded',
  rateLimitConfigChanged: 'rate_limit.config_changed',
  workspaceCreated: 'workspace.created',
  workspaceUpdated: 'workspace.updated',
  workspaceDeleted: 'workspace.deleted',
  roleGranted: 'role.granted',
  roleChanged: 'role.changed',
  roleRevoked: 'role.revoked',
  ownershipTransferred: 'ownership.transferred',
  accessDenied: 'access.denied',
  platformAdminGranted: 'platform_admin.granted',
  platformAdminRevoked: 'platform_admin.revoked',
  auditPurged: 'audit.purged',
  loginLocked: 'user.login_locked',
} as const;

export type AuditAction = (typeof auditActions)[keyof typeof auditActions];

/**
 * Client address and user agent of a request, copied into each event it causes, and the
 * request's id for log lines. Audit rows store only `ip` and `userAgent` (see auditRow).
 */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
  /** Id of the request, written on the log lines of services. Absent outside a request. */
  requestId?: string;
}

export interface AuditEvent {
  action: AuditAction;
  actorId?: string | null;
  targetId?: string | null;
  sessionId?: string | null;
  origin: RequestOrigin;
  metadata?: Prisma.InputJsonObject;
}

/** Builds the data of one audit row, for callers that batch it into a transaction. */
export function auditRow(
  action: AuditAction,
  actorId: string | null,
  targetId: string | null,
  sessionId: string | null,
  origin: RequestOrigin,
  metadata: Prisma.InputJsonObject = {},
): Prisma.AuditLogUncheckedCreateInput {
  // Fields are picked one by one, so the origin's requestId, which a client may choose, stays out.
  return { action, actorId, targetId, sessionId, ip: origin.ip, userAgent: origin.userAgent, metadata };
}

/**
 * Writes one event with the client passed in, so a caller inside a transaction records the
 * event together with the change it describes: both are stored or neither is.
 */
export async function recordAuditEvent(
  db: Pick<Prisma.TransactionClient, 'auditLog'>,
  event: AuditEvent,
): Promise<void> {
  const { action, actorId, targetId, sessionId, origin, metadata } = event;
  await db.auditLog.create({
    data: auditRow(action, actorId ?? null, targetId ?? null, sessionId ?? null, origin, metadata),
  });
}
