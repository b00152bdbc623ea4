import type { RevocationStatus } from '../auth/revocations.js';
import { BucketPlanCache } from './bucket-plans.js';
import type { RateLimitConfigStore } from './config-store.js';
import type { BucketRequest, ConsumeResult, QuotaStore } from './quota-store.js';
import type { ExecutedOperation } from './root-fields.js';
import { rateLimitSubject } from './subject.js';
import { userHashTag } from '../state/hash-tags.js';
import { windowDurationsMs, type LimitRule, type Plan, type RateLimitStatus, type WindowStatus } from './windows.js';

/** The caller identity that bucket keys are built from. */
export interface RateLimitCaller {
  plan: Plan;
  userId: string | null;
  ip: string | null;
}

/** A bucket that lacked the points for a rejected request. */
export interface ExceededBucket {
  key: string;
  status: WindowStatus;
  ttlMs: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  status: RateLimitStatus;
  /** Seconds until every exceeded bucket has reset, or 0 when allowed. */
  retryAfterSeconds: number;
  exceeded: ExceededBucket[];
  /**
   * Deny-list status of the session whose key was passed to `check`. When `revoked`, nothing
   * was consumed and the decision's other fields mean nothing.
   */
  revocation?: RevocationStatus;
}

interface PlannedBucket {
  request: BucketRequest;
  pattern: string;
  window: WindowStatus['window'];
}

/** The operation of a request rejected before execution, which selected none. */
const rejectedOperation: ExecutedOperation = Object.freeze({ type: 'query', name: undefined, rootFields: [], responseKeys: [] });

/** Returns the Redis key of one quota bucket of a caller. */
export function bucketKey(caller: RateLimitCaller, pattern: string, window: string): string {
  return `${bucketKeyPrefix(caller)}${pattern}:${window}`;
}

/**
 * Returns the prefix of a caller's quota keys. The hash tag keeps all of a caller's buckets in
 * one Cluster slot. A user's tag is also the tag of their sessions' deny-list keys. It leaves out
 * the plan, which can change without a new token. The plan follows the tag, so plans count apart.
 */
function bucketKeyPrefix(caller: RateLimitCaller): string {
  const tag = caller.userId ? userHashTag(caller.userId) : `{${rateLimitSubject(null, caller.ip)}}`;

  return `gatehouse:rl:${tag}:${caller.plan}:`;
}

/**
 * Turns an operation into quota buckets and consumes them in one atomic store call. Every root
 * field adds the cost of its rule to the bucket of that rule's pattern, so aliases and batched
 * operations each count.
 */
export class QuotaLimiter {
  readonly #templates = new BucketPlanCache();

  constructor(
    private readonly configs: RateLimitConfigStore,
    private readonly store: QuotaStore,
  ) {}

  /**
   * Consumes the operation's cost and reads `revocationKey` in the same store call. An operation
   * whose root fields `@skip` or `@include` all leave out draws 1 point from each `*` bucket, as
   * a rejected one does, so that a flood of them ends in RATE_LIMITED.
   */
  async check(caller: RateLimitCaller, operation: ExecutedOperation, revocationKey?: string): Promise<RateLimitDecision> {
    const rules = this.configs.servedRules() ?? (await this.configs.rules());
    const planned = operation.rootFields.length > 0 ? this.#plan(rules, caller, operation) : defaultBuckets(rules, caller);
    const result = await this.store.consume(
      planned.map((bucket) => bucket.request),
      revocationKey,
    );
    if (result.revocation === 'revoked') return revokedDecision(caller, operation);

    return decide(caller, operation.name ?? operation.rootFields.join(','), planned, result);
  }

  /**
   * Consumes 1 point from each `*` bucket of the caller's plan for one operation rejected before
   * execution. The status names no operation, because none was selected. A revoked session
   * consumes nothing, as in {@link check}.
   */
  async chargeRejected(caller: RateLimitCaller, revocationKey?: string): Promise<RateLimitDecision> {
    const rules = this.configs.servedRules() ?? (await this.configs.rules());
    const planned = defaultBuckets(rules, caller);
    const result = await this.store.consume(
      planned.map((bucket) => bucket.request),
      revocationKey,
    );
    if (result.revocation === 'revoked') return revokedDecision(caller, rejectedOperation);

    return decide(caller, '', planned, result);
  }

  #plan(rules: readonly LimitRule[], caller: RateLimitCaller, operation: ExecutedOperation): PlannedBucket[] {
    const templates = this.#templates.templatesFor(rules, caller.plan, operation);
    const prefix = bucketKeyPrefix(caller);

    return templates.map((template) => ({
      request: {
        key: `${prefix}${template.pattern}:${template.window}`,
        cost: template.cost,
        limit: template.limit,
        durationMs: template.durationMs,
        failMode: template.failMode,
      },
      pattern: template.pattern,
      window: template.window,
    }));
  }
}

/** Plans 1 point from each `*` bucket of the caller's plan, for an operation that selects no root field. */
function defaultBuckets(rules: readonly LimitRule[], caller: RateLimitCaller): PlannedBucket[] {
  const prefix = bucketKeyPrefix(caller);

  return rules
    .filter((rule) => rule.plan === caller.plan && rule.operation === '*')
    .map((rule): PlannedBucket => {
      const request = {
        key: `${prefix}*:${rule.window}`,
        cost: 1,
        limit: rule.points,
        durationMs: windowDurationsMs[rule.window],
        failMode: rule.failMode,
      };

      return { request, pattern: '*', window: rule.window };
    });
}

/** Turns the store's result for the planned buckets into the decision and status clients see. */
function decide(
  caller: RateLimitCaller,
  operation: string,
  planned: readonly PlannedBucket[],
  result: ConsumeResult,
): RateLimitDecision {
  const now = Date.now();
  const windows = planned.map((bucket, index): WindowStatus => {
    const state = result.buckets[index]!;
    return {
      window: bucket.window,
      bucket: bucket.pattern,
      limit: bucket.request.limit,
      remaining: Math.max(bucket.request.limit - state.consumed, 0),
      cost: bucket.request.cost,
      resetAt: new Date(now + Math.max(state.ttlMs, 0)).toISOString(),
      failMode: bucket.request.failMode,
    };
  });
  const exceeded = result.allowed
    ? []
    : planned.flatMap((bucket, index) => {
        const state = result.buckets[index]!;
        const enforced = !result.degraded || bucket.request.failMode === 'closed';
        const lacking = state.consumed + bucket.request.cost > bucket.request.limit;
        return enforced && lacking ? [{ key: bucket.request.key, status: windows[index]!, ttlMs: state.ttlMs }] : [];
      });
  const longestTtlMs = Math.max(0, ...exceeded.map((bucket) => bucket.ttlMs));

  return {
    allowed: result.allowed,
    status: {
      plan: caller.plan,
      operation,
      cost: maxCostPerWindow(windows),
      degraded: result.degraded,
      windows,
    },
    retryAfterSeconds: result.allowed ? 0 : Math.max(1, Math.ceil(longestTtlMs / 1000)),
    exceeded,
    revocation: result.revocation,
  };
}

/** Builds the decision for a revoked session: the store consumed nothing, and the caller checks again. */
function revokedDecision(caller: RateLimitCaller, operation: ExecutedOperation): RateLimitDecision {
  const status = { plan: caller.plan, operation: operation.name ?? operation.rootFields.join(','), cost: 0, degraded: false, windows: [] };

  return { allowed: true, status, retryAfterSeconds: 0, exceeded: [], revocation: 'revoked' };
}

function maxCostPerWindow(windows: readonly WindowStatus[]): number {
  const totals = new Map<string, number>();
  for (const status of windows) totals.set(status.window, (totals.get(status.window) ?? 0) + status.cost);

  return Math.max(0, ...totals.values());
}

/** Returns the window with the fewest remaining points, for the RateLimit-* headers. */
export function tightestWindow(windows: readonly WindowStatus[]): WindowStatus | undefined {
  let tightest: WindowStatus | undefined;
  for (const status of windows) {
    if (!tightest || status.remaining < tightest.remaining) tightest = status;
    else if (status.remaining === tightest.remaining && status.resetAt > tightest.resetAt) tightest = status;
  }

  return tightest;
}
