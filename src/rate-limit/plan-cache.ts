import type { PrismaClient } from '../generated/prisma/client.js';
import type { Plan } from './windows.js';

const planTtlMs = 5_000;
const maxEntries = 10_000;

/**
 * Caches each user's plan for 5 s, so the quota check costs no database query on most
 * requests and a plan change takes effect within 5 s. It keeps at most 10,000 users and
 * drops the oldest entry first.
 */
export class PlanCache {
  readonly #entries = new Map<string, { plan: Plan; expiresAt: number }>();

  constructor(private readonly prisma: PrismaClient) {}

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
    const user = await this.prisma.user.findUnique({ where: { id: userId }, select: { plan: true } });
    const plan = user?.plan ?? 'free';
    this.#entries.delete(userId);
    this.#entries.set(userId, { plan, expiresAt: now + planTtlMs });
    if (this.#entries.size > maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }

    return plan;
  }
}
