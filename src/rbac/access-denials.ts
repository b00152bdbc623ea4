import { auditActions, auditRow } from '../audit/audit-log.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { requestLogger, type Logger } from '../logger.js';
import type { Actor } from './actor.js';
import type { WorkspaceRole } from './roles.js';

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
}

/**
 * Audits denied workspace access as `access.denied`, at most once per user and workspace per
 * window, so a client that retries in a loop cannot fill the audit log. Kept in this process's
 * memory: with several instances, each writes its own one event per window.
 */
export class AccessDenials {
  private readonly lastWritten = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxEntries: number;

  constructor(private readonly options: AccessDenialOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** Records a denial unless the same pair was recorded within the window. Write failures are logged, not thrown. */
  async record(actor: Actor, workspaceId: string, requiredRole: WorkspaceRole, reason: string): Promise<void> {
    const key = `${actor.userId}:${workspaceId}`;
    const now = Date.now();
    const last = this.lastWritten.get(key);
    if (last !== undefined && now - last < this.windowMs) return;
    this.remember(key, now);
    const logger = requestLogger(this.options.logger, actor.origin);
    logger.info({ userId: actor.userId, workspaceId, requiredRole, reason }, 'workspace access denied');
    try {
      const row = auditRow(auditActions.accessDenied, actor.userId, workspaceId, actor.sessionId, actor.origin, {
        requiredRole,
        reason,
      });
      await this.options.prisma.auditLog.createMany({ data: [{ ...row, workspaceId }] });
    } catch (error) {
      logger.error({ err: error, userId: actor.userId, workspaceId }, 'writing access.denied failed');
    }
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
