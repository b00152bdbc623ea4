import { auditActions, auditRow } from '../audit/audit-log.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { requestLogger, type Logger } from '../logger.js';
import type { Actor } from './actor.js';
import type { WorkspaceRole } from './roles.js';
import type { RequestOrigin } from '../audit/audit-log.js';

/** Marks a key for `ttlMs` and returns whether it was not marked yet, across instances. */
export type SharedMark = (key: string, ttlMs: number, origin?: RequestOrigin) => Promise<boolean>;

/** Reason of a denial: the member's role is below the minimum, or the caller is not a member. */
export type AccessDenialReason = 'role_insufficient' | 'not_a_member';

export interface AccessDenialOptions {
  prisma: PrismaClient;
  logger: Logger;
  /** One event per user and workspace within this window, in ms. @default 60000 */
  windowMs?: number;
  /**
   * Most user and workspace pairs remembered. When full, expired pairs are dropped first, then
   * the oldest, so a flood of distinct pairs can write more events but never grows memory.
   * @default 10000
   */
  maxEntries?: number;
  /**
   * Mark shared between instances, such as the rate limits' Redis. With it, the whole
   * deployment writes one event per pair and window instead of one per instance.
   */
  sharedMark?: SharedMark;
}

/**
 * Audits denied workspace access as `access.denied`, at most once per user and workspace per
 * window, so a client that retries in a loop cannot fill the audit log. Each instance remembers
 * the pairs it wrote, and with `sharedMark` the instances also agree on one event per window.
 */
export class AccessDenials {
  private readonly lastWritten = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxEntries: number;

  constructor(private readonly options: AccessDenialOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /**
   * Records a denial unless the same pair was recorded within the window. Write failures are
   * logged, not thrown. A member's denial is stored under the workspace, so its admins read it.
   * A caller who is not a member, or names a workspace that does not exist, gets an event with
   * no workspace, which only platform admins read. So a workspace's admins never see an
   * outsider's IP and user agent, and outsiders cannot write into a workspace's log.
   */
  async record(actor: Actor, requestedId: string, requiredRole: WorkspaceRole, reason: AccessDenialReason): Promise<void> {
    // PostgreSQL reads a uuid in any letter case, so every spelling of an id counts as one pair.
    const workspaceId = requestedId.toLowerCase();
    const key = `${actor.userId}:${workspaceId}`;
    const now = Date.now();
    const last = this.lastWritten.get(key);
    if (last !== undefined && now - last < this.windowMs) return;
    this.remember(key, now);
    if (!(await this.isFirstAcrossInstances(key, actor.origin))) return;
    const logger = requestLogger(this.options.logger, actor.origin);
    logger.info({ userId: actor.userId, workspaceId, requiredRole, reason }, 'workspace access denied');
    try {
      const isMember = reason === 'role_insufficient';
      const row = auditRow(auditActions.accessDenied, actor.userId, workspaceId, actor.sessionId, actor.origin, {
        requiredRole,
        reason,
        ...(!isMember && { workspaceId }),
      });
      await this.options.prisma.auditLog.createMany({ data: [{ ...row, workspaceId: isMember ? workspaceId : null }] });
    } catch (error) {
      logger.error({ err: error, userId: actor.userId, workspaceId }, 'writing access.denied failed');
    }
  }

  /** Asks the shared mark whether another instance wrote this pair within the window. */
  private async isFirstAcrossInstances(key: string, origin: RequestOrigin): Promise<boolean> {
    const { sharedMark } = this.options;
    if (!sharedMark) return true;

    return sharedMark(`gatehouse:access-denied:${key}`, this.windowMs, origin);
  }

  private remember(key: string, now: number): void {
    this.lastWritten.delete(key);
    // Insertion order is time order, so expired and oldest pairs come first.
    for (const [stored, at] of this.lastWritten) {
      const expired = now - at >= this.windowMs;
      if (!expired && this.lastWritten.size < this.maxEntries) break;
      this.lastWritten.delete(stored);
    }
    this.lastWritten.set(key, now);
  }
}
