import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { auditActions, recordAuditEvent } from './audit-log.js';

export interface AuditRetentionOptions {
  prisma: PrismaClient;
  logger: Logger;
  /** Events older than this many days are deleted. */
  retentionDays: number;
  /** Milliseconds between runs; 0 disables the timer (runOnce still works). */
  intervalMs: number;
  /** Rows deleted per statement, so no statement holds locks on many rows. @default 1000 */
  batchSize?: number;
  /** Batches per run at most, so one run ends even while events arrive. @default 1000 */
  maxBatches?: number;
}

export interface RetentionRun {
  deleted: number;
  batches: number;
  /** True when another instance held the lock, so this run deleted nothing. */
  skipped: boolean;
}

// Key of the PostgreSQL advisory lock that lets one instance at a time run the job.
// The value is arbitrary but fixed: every Gatehouse instance must use the same one.
const retentionLockKey = 7_310_442_001;

/**
 * Deletes audit events older than the retention period on a timer. Each batch runs in its own
 * transaction that first takes a transaction-scoped advisory lock, so instances sharing a
 * database never delete at the same time, and a crash releases the lock with the transaction.
 * The same transaction writes the batch's `audit.purged` event, so no deletion commits without it.
 */
export class AuditRetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionRun> | undefined;

  constructor(private readonly options: AuditRetentionOptions) {}

  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.runSafely(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress to finish. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Runs the job now; a call while a run is in progress joins that run. */
  runOnce(now = new Date()): Promise<RetentionRun> {
    this.running ??= this.purge(now).finally(() => {
      this.running = undefined;
    });

    return this.running;
  }

  private async runSafely(): Promise<void> {
    try {
      await this.runOnce();
    } catch (error) {
      this.options.logger.error({ err: error }, 'audit retention run failed; retrying at the next interval');
    }
  }

  private async purge(now: Date): Promise<RetentionRun> {
    const { retentionDays, logger } = this.options;
    const batchSize = this.options.batchSize ?? 1000;
    const maxBatches = this.options.maxBatches ?? 1000;
    const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
    const run: RetentionRun = { deleted: 0, batches: 0, skipped: false };
    while (run.batches < maxBatches) {
      const deleted = await this.deleteBatch(cutoff, batchSize);
      if (deleted === null) {
        run.skipped = run.batches === 0;
        break;
      }
      run.batches += 1;
      run.deleted += deleted;
      if (deleted < batchSize) break;
    }
    logger.info({ ...run, cutoff: cutoff.toISOString(), retentionDays }, 'audit retention run finished');

    return run;
  }

  /**
   * Deletes one batch and records its `audit.purged` event in the same transaction, so a failed
   * event write rolls the deletions back. Returns null when another instance holds the lock.
   */
  private deleteBatch(cutoff: Date, batchSize: number): Promise<number | null> {
    return this.options.prisma.$transaction(async (tx) => {
      const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(${retentionLockKey}::bigint) AS locked`;
      if (!lock?.locked) return null;
      const deleted = await tx.$executeRaw`
        DELETE FROM audit_logs WHERE id IN (
          SELECT id FROM audit_logs WHERE created_at < ${cutoff} ORDER BY created_at LIMIT ${batchSize}
        )`;
      if (deleted > 0) await recordPurge(tx, deleted, cutoff);

      return deleted;
    });
  }
}

function recordPurge(tx: Prisma.TransactionClient, deleted: number, cutoff: Date): Promise<void> {
  return recordAuditEvent(tx, {
    action: auditActions.auditPurged,
    origin: { ip: null, userAgent: null },
    metadata: { deleted, before: cutoff.toISOString() },
  });
}
