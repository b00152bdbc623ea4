import type { RedisClient } from '../state/redis.js';
import { auditActions, recordAuditEvent, type RequestOrigin } from '../audit/audit-log.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { requestLogger, type Logger } from '../logger.js';
import { RateLimitConfigStore } from './config-store.js';
import { QuotaLimiter, type RateLimitCaller, type RateLimitDecision } from './limiter.js';
import { LockoutAudit } from './lockout-audit.js';
import { LoginGuard, type LoginGuardOptions } from './login-guard.js';
import { PlanCache } from './plan-cache.js';
import { MemoryQuotaStore, type QuotaStore } from './quota-store.js';
import { RedisQuotaStore } from './redis-quota-store.js';
import type { ExecutedOperation } from './root-fields.js';
import { canonicalAddress } from './subject.js';

export interface RateLimitServiceDeps {
  prisma: PrismaClient;
  /** Shared counters for every instance. Without it each instance counts on its own. */
  redis: RedisClient | undefined;
  logger: Logger;
  loginGuard: Omit<LoginGuardOptions, 'exemptIps'>;
  /** Client addresses no quota applies to. */
  exemptIps: readonly string[];
}

/** Quotas per plan, caller and operation, the login guard, and the audit of violations. */
export class RateLimitService {
  readonly configs: RateLimitConfigStore;
  readonly loginGuard: LoginGuard;
  readonly #store: QuotaStore;
  readonly #limiter: QuotaLimiter;
  readonly #plans: PlanCache;
  readonly #exemptIps: ReadonlySet<string>;

  constructor(private readonly deps: RateLimitServiceDeps) {
    this.configs = new RateLimitConfigStore(deps.prisma, deps.logger);
    this.#store = deps.redis ? new RedisQuotaStore(deps.redis, deps.logger) : new MemoryQuotaStore();
    this.#limiter = new QuotaLimiter(this.configs, this.#store);
    this.#plans = new PlanCache(deps.prisma, deps.logger);
    this.#exemptIps = new Set(deps.exemptIps.map(canonicalAddress));
    const lockouts = new LockoutAudit({
      prisma: deps.prisma,
      logger: deps.logger,
      markOnce: (key, ttlMs, origin) => this.markOnce(key, ttlMs, origin),
    });
    this.loginGuard = new LoginGuard(deps.redis, { ...deps.loginGuard, exemptIps: deps.exemptIps }, deps.logger, lockouts);
  }

  /** True while quotas are counted per instance because Redis is unreachable. */
  get degraded(): boolean {
    return this.#store.degraded;
  }

  /** True for a client address on the exemption list: its requests draw no quota. */
  isExempt(ip: string | null): boolean {
    return ip !== null && this.#exemptIps.has(canonicalAddress(ip));
  }

  /**
   * Consumes the cost of one operation for the caller; see {@link QuotaLimiter.check}. With
   * `revocationKey`, the session's deny-list entry is read in the same Redis call, and a revoked
   * session consumes nothing.
   */
  async check(
    userId: string | null,
    origin: RequestOrigin,
    operation: ExecutedOperation,
    revocationKey?: string,
  ): Promise<RateLimitDecision> {
    const plan = userId ? (this.#plans.cachedPlanOf(userId) ?? (await this.#plans.planOf(userId))) : 'free';
    const caller: RateLimitCaller = { plan, userId, ip: origin.ip };
    const decision = await this.#limiter.check(caller, operation, revocationKey);
    if (!decision.allowed) await this.#recordExceeded(decision, caller, origin);

    return decision;
  }

  /**
   * Consumes 1 point from the caller's `*` buckets for one operation rejected before execution,
   * such as an unparsable document; see {@link QuotaLimiter.chargeRejected}. With
   * `revocationKey`, a revoked session consumes nothing, and the caller then charges the client address.
   */
  async chargeRejected(userId: string | null, origin: RequestOrigin, revocationKey?: string): Promise<RateLimitDecision> {
    const plan = userId ? (this.#plans.cachedPlanOf(userId) ?? (await this.#plans.planOf(userId))) : 'free';
    const caller: RateLimitCaller = { plan, userId, ip: origin.ip };
    const decision = await this.#limiter.chargeRejected(caller, revocationKey);
    if (!decision.allowed) await this.#recordExceeded(decision, caller, origin);

    return decision;
  }

  /**
   * Returns true for the first call with `key` within `ttlMs` across every instance that shares
   * this Redis, and false for the calls after it. Without Redis, or while it is down, the mark is
   * kept in this process.
   */
  markOnce(key: string, ttlMs: number, origin?: RequestOrigin): Promise<boolean> {
    return this.#store.markOnce(key, ttlMs, origin);
  }

  close(): void {
    this.#store.close();
  }

  /** Writes one `rate_limit.exceeded` event per bucket and window, however often it is hit. */
  async #recordExceeded(decision: RateLimitDecision, caller: RateLimitCaller, origin: RequestOrigin): Promise<void> {
    for (const bucket of decision.exceeded) {
      try {
        if (!(await this.#store.markOnce(`${bucket.key}:audited`, bucket.ttlMs, origin))) continue;
        await recordAuditEvent(this.deps.prisma, {
          action: auditActions.rateLimitExceeded,
          actorId: caller.userId,
          targetId: caller.userId,
          origin,
          metadata: {
            plan: caller.plan,
            operation: decision.status.operation,
            bucket: bucket.status.bucket,
            window: bucket.status.window,
            limit: bucket.status.limit,
            resetAt: bucket.status.resetAt,
          },
        });
      } catch (error) {
        const fields = { err: error, userId: caller.userId, bucket: bucket.status.bucket };
        requestLogger(this.deps.logger, origin).error(fields, 'recording a rate limit violation failed');
      }
    }
  }
}
