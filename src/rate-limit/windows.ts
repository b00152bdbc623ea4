import type { Plan, RateLimitFailMode, RateLimitWindow } from '../generated/prisma/client.js';

export type { Plan, RateLimitFailMode, RateLimitWindow };

/** Window lengths in milliseconds. Windows are fixed: they start at a bucket's first hit. */
export const windowDurationsMs: Record<RateLimitWindow, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

export const windowNames: readonly RateLimitWindow[] = ['minute', 'hour', 'day'];

export const planNames: readonly Plan[] = ['free', 'pro', 'enterprise'];

/** One row of `rate_limit_configs`, as the limiter reads it. */
export interface LimitRule {
  plan: Plan;
  /** Exact root field or operation name, a glob with `*` and `?`, or `*` for every field. */
  operation: string;
  window: RateLimitWindow;
  points: number;
  cost: number;
  failMode: RateLimitFailMode;
}

/** Limit, remaining points and reset time of one window, as clients see them. */
export interface WindowStatus {
  window: RateLimitWindow;
  /** The config pattern whose bucket this is, such as `login` or `*`. */
  bucket: string;
  limit: number;
  remaining: number;
  /** Points this request consumed (or asked for, when rejected) in this bucket. */
  cost: number;
  resetAt: string;
  failMode: RateLimitFailMode;
}

/** The quota state sent in `extensions.rateLimit` and returned by the `rateLimit` query. */
export interface RateLimitStatus {
  plan: Plan;
  /** The operation name, or the root fields joined with "," for anonymous operations. */
  operation: string;
  /** Points this request consumed across all its buckets, in its most expensive window. */
  cost: number;
  /** True while Redis is unreachable and limits are counted per instance in memory. */
  degraded: boolean;
  windows: WindowStatus[];
}

/**
 * The quota state of an operation rejected before execution, which drew from the `*` buckets.
 * `operation` is null because no operation was selected.
 */
export type RejectedOperationStatus = Omit<RateLimitStatus, 'operation'> & { operation: null };
