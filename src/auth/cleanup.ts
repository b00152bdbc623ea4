import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';

/** Key of the advisory lock that lets one instance at a time clean up; any fixed bigint works. */
export const cleanupLockKey = 7_261_120_401n;

export interface CleanupOptions {
  /** Rows past expiry are kept this long before deletion, in seconds, for investigations. */
  retentionSeconds: number;
  /** Rows deleted by one statement, so no statement locks or scans too much at once. @default 1000 */
  batchSize?: number;
  /** Statements per table in one run; the next run continues. @default 100 */
  maxBatches?: number;
}

export interface CleanupResult {
  /** True when another instance held the lock, so this run deleted nothing. */
  skipped: boolean;
  refreshTokens: number;
  sessions: number;
}

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/**
 * Runs `deleteBatch` until it deletes fewer than `batchSize` rows or `maxBatches` ran, so one run
 * never holds locks on more than `batchSize` rows per statement. Returns the rows deleted.
 */
async function deleteInBatches(deleteBatch: () => Promise<number>, batchSize: number, maxBatches: number) {
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const deleted = await deleteBatch();
    total += deleted;
    if (deleted < batchSize) break;
  }

  return total;
}

/** Deletes refresh tokens that expired before `cutoff`. */
function deleteRefreshTokens(tx: Transaction, cutoff: Date, batchSize: number, maxBatches: number) {
  const deleteBatch = () => tx.$executeRaw`
    DELETE FROM refresh_tokens WHERE id IN (
      SELECT id FROM refresh_tokens WHERE expires_at < ${cutoff} LIMIT ${batchSize})`;

  return deleteInBatches(deleteBatch, batchSize, maxBatches);
}

/** Deletes sessions whose absolute lifetime ended before `cutoff`; their tokens go by cascade. */
function deleteSessions(tx: Transaction, cutoff: Date, batchSize: number, maxBatches: number) {
  const deleteBatch = () => tx.$executeRaw`
    DELETE FROM sessions WHERE id IN (
      SELECT id FROM sessions WHERE expires_at < ${cutoff} LIMIT ${batchSize})`;

  return deleteInBatches(deleteBatch, batchSize, maxBatches);
}

/**
 * Deletes refresh tokens and sessions that expired more than the retention period ago. The run
 * holds a transaction-scoped advisory lock, so when several instances start it at once only one
 * deletes and the others return `skipped`. Revoked sessions stay until their expiry plus
 * retention, which keeps them listable for audits.
 */
export async function runCleanup(
  prisma: PrismaClient,
  options: CleanupOptions,
  now = new Date(),
): Promise<CleanupResult> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 100;
  const cutoff = new Date(now.getTime() - options.retentionSeconds * 1000);

  return prisma.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(${cleanupLockKey}) AS locked`;
      if (!lock?.locked) return { skipped: true, refreshTokens: 0, sessions: 0 };
      const refreshTokens = await deleteRefreshTokens(tx, cutoff, batchSize, maxBatches);
      const sessions = await deleteSessions(tx, cutoff, batchSize, maxBatches);

      return { skipped: false, refreshTokens, sessions };
    },
    // Up to 200 bounded statements; the default 5 s would cut a large backlog short.
    { timeout: 120_000 },
  );
}

export interface CleanupJob {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Runs the clean-up every `intervalSeconds`, logging each run's counts. */
export function startCleanupJob(
  prisma: PrismaClient,
  options: CleanupOptions & { intervalSeconds: number },
  logger: Logger,
): CleanupJob {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = runCleanup(prisma, options)
      .then((result) => logger.info(result, 'expired sessions cleaned up'))
      .catch((error: unknown) => logger.error({ err: error }, 'session clean-up failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, options.intervalSeconds * 1000);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
