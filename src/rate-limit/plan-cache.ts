import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { Plan } from './windows.js';

const planTtlMs = 5_000;
/** How long a plan served because the database could not be read is kept before the next read. */
const retryAfterFailureMs = 1_000;
const maxEntries = 10_000;

/**
 * Caches each user's plan for 5 s, so the quota check costs no database query on most
 * requests and a plan change takes effect within 5 s. It keeps at most 10,000 users and
 * drops the oldest entry first.
 *
 * While the database cannot be read, it serves the last plan it read for the user, or `free`
 * for a user it never read, and reads again after a second. Requests that need only an access
 * token then keep working, and no caller gets more quota than the plan it last had or `free`.
 */
export class PlanCache {
  readonly #entries = new Map<string, { plan: Plan; expiresAt: number }>();
  /** Failed reads since the last successful one; the first is logged as an error, later ones at debug level. */
  #failedReads = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
  ) {}

  /** The user's plan while it is cached, without a promise; undefined when it must be read. */
  cachedPlanOf(userId: string, now = Date.now()): Plan | undefined {
    const cached = this.#entries.get(userId);

    return cached && cached.expiresAt > now ? cached.plan : undefined;
  }

  /** Returns the plan of a user. An unknown user, such as one just deleted, counts as free. */
  async planOf(userId: string): Promise<Plan> {
    const now = Date.now();
    const cached = this.cachedPlanOf(userId, now);
    if (cached) return cached;
    try {
      const user = await this.prisma.user.findUnique({ where: { id: userId }, select: { plan: true } });
      this.#readSucceeded();
      const plan = user?.plan ?? 'free';
      this.#store(userId, plan, now + planTtlMs);

      return plan;
    } catch (error) {
      return this.#servePreviousPlan(userId, now, error);
    }
  }

  #servePreviousPlan(userId: string, now: number, error: unknown): Plan {
    const plan = this.#entries.get(userId)?.plan ?? 'free';
    this.#failedReads += 1;
    const message = 'reading a user plan failed, serving the last known plan or free';
    if (this.#failedReads === 1) this.logger.error({ err: error, userId, plan }, message);
    else this.logger.debug({ err: error, userId, plan, failedReads: this.#failedReads }, message);
    this.#store(userId, plan, now + retryAfterFailureMs);

    return plan;
  }

  #readSucceeded(): void {
    if (this.#failedReads === 0) return;
    this.logger.info({ failedReads: this.#failedReads }, 'reading user plans succeeded again');
    this.#failedReads = 0;
  }

  #store(userId: string, plan: Plan, expiresAt: number): void {
    this.#entries.delete(userId);
    this.#entries.set(userId, { plan, expiresAt });
    if (this.#entries.size > maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
