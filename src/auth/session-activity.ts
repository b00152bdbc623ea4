import type { RedisClient } from '../state/redis.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { RequestOrigin } from '../audit/audit-log.js';
import { requestLogger, type Logger } from '../logger.js';
import { responsivenessOf } from '../state/redis-responsiveness.js';

export interface SessionActivityOptions {
  prisma: PrismaClient;
  /** Shares the throttle between instances; without it each instance throttles on its own. */
  redis: RedisClient | undefined;
  logger: Logger;
  /** Minimum time between two writes of `lastUsedAt` for one session, in ms. @default 60000 */
  intervalMs?: number;
}

/** Entries kept in memory before expired ones are swept, to bound memory under many sessions. */
const sweepThreshold = 10_000;

const touchedKey = (sessionId: string) => `gatehouse:touched:${sessionId}`;

/**
 * Records that a session was used: `lastUsedAt` and the client IP, written at most once per
 * interval per session, so authenticated requests do not each cost a database write. The
 * idle timeout reads `lastUsedAt`, so use pushes it back, at a resolution of one interval.
 */
export class SessionActivity {
  readonly #touchedAt = new Map<string, number>();
  readonly #intervalMs: number;

  constructor(private readonly options: SessionActivityOptions) {
    this.#intervalMs = options.intervalMs ?? 60_000;
  }

  /**
   * Writes the use of a session and the origin's IP unless it was written within the interval.
   * Returns undefined, with no promise to wait for, when there is nothing to write.
   */
  touch(sessionId: string, origin: RequestOrigin, now = Date.now()): Promise<void> | undefined {
    const last = this.#touchedAt.get(sessionId);
    if (last !== undefined && now - last < this.#intervalMs) return undefined;
    this.#remember(sessionId, now);

    return this.#write(sessionId, origin, now);
  }

  async #write(sessionId: string, origin: RequestOrigin, now: number): Promise<void> {
    if (!(await this.#claimInRedis(sessionId, origin))) return;
    const { ip } = origin;
    try {
      await this.options.prisma.session.updateMany({
        where: { id: sessionId, revokedAt: null },
        data: ip ? { lastUsedAt: new Date(now), ip } : { lastUsedAt: new Date(now) },
      });
    } catch (error) {
      // The next interval writes again; a lost write only makes `lastUsedAt` older.
      requestLogger(this.options.logger, origin).error({ err: error, sessionId }, 'recording session use failed');
    }
  }

  /** Returns false when another instance wrote this session within the interval. */
  async #claimInRedis(sessionId: string, origin: RequestOrigin): Promise<boolean> {
    const { redis, logger } = this.options;
    if (!redis) return true;
    // A Redis that is down or stopped responding would make this request wait out the command
    // timeout, so this instance's own throttle decides alone.
    const responsiveness = responsivenessOf(redis, logger);
    if (redis.status !== 'ready' || !responsiveness.responding) return true;
    try {
      const claimed = await redis.set(touchedKey(sessionId), '1', 'PX', this.#intervalMs, 'NX');

      return claimed === 'OK';
    } catch (error) {
      responsiveness.report(error);
      // Redis down: this instance's own throttle still bounds the writes. The outage itself is
      // logged once by the Redis client; this line is for debugging only.
      if (logger.isLevelEnabled('debug')) {
        requestLogger(logger, origin).debug({ err: error, sessionId }, 'session use throttle not shared');
      }

      return true;
    }
  }

  #remember(sessionId: string, now: number): void {
    if (this.#touchedAt.size >= sweepThreshold) {
      for (const [id, at] of this.#touchedAt) if (now - at >= this.#intervalMs) this.#touchedAt.delete(id);
    }
    this.#touchedAt.set(sessionId, now);
  }
}
