import { ruleFor } from './config-store.js';
import type { ExecutedOperation } from './root-fields.js';
import { windowDurationsMs, windowNames, type LimitRule, type Plan, type RateLimitFailMode, type RateLimitWindow } from './windows.js';

/** The buckets an operation draws from, without the caller part of their keys. */
export interface BucketTemplate {
  /** The config pattern whose bucket this is, such as `login` or `*`. */
  pattern: string;
  window: RateLimitWindow;
  /** Sum of the costs of every root field that falls into this bucket. */
  cost: number;
  limit: number;
  durationMs: number;
  failMode: RateLimitFailMode;
}

/** Distinct plan, operation name and root fields kept; operation names come from clients. */
const maxEntries = 1_000;

/**
 * Matches operations to quota rules once per plan, operation name and root field list, rather
 * than on every request. The cache empties whenever the rules change (the config store returns a
 * new array), and when it is full.
 */
export class BucketPlanCache {
  #rules: readonly LimitRule[] | undefined;
  readonly #plans = new Map<string, BucketTemplate[]>();

  templatesFor(rules: readonly LimitRule[], plan: Plan, operation: ExecutedOperation): BucketTemplate[] {
    if (rules !== this.#rules || this.#plans.size >= maxEntries) {
      this.#plans.clear();
      this.#rules = rules;
    }
    // Field and operation names cannot contain a newline, so the key is unambiguous.
    const key = `${plan}\n${operation.name ?? ''}\n${operation.rootFields.join('\n')}`;
    let templates = this.#plans.get(key);
    if (!templates) {
      templates = matchRules(rules, plan, operation);
      this.#plans.set(key, templates);
    }

    return templates;
  }
}

/**
 * Picks the rule of every root field in every window and sums the costs of fields that land in
 * the same bucket, so aliases and repeated fields each count. A field that an operation-name rule
 * selects also draws from the bucket of the rule its own name selects. Clients choose operation
 * names, so otherwise naming operations after a stricter rule would open a second bucket.
 */
function matchRules(rules: readonly LimitRule[], plan: Plan, operation: ExecutedOperation): BucketTemplate[] {
  const buckets = new Map<string, BucketTemplate>();
  for (const window of windowNames) {
    for (const field of operation.rootFields) {
      const rule = ruleFor(rules, plan, window, field, operation.name);
      if (!rule) continue;
      addCost(buckets, rule, window);
      const fieldRule = operation.name === undefined ? rule : ruleFor(rules, plan, window, field, undefined);
      if (fieldRule && fieldRule !== rule) addCost(buckets, fieldRule, window);
    }
  }

  return [...buckets.values()];
}

function addCost(buckets: Map<string, BucketTemplate>, rule: LimitRule, window: RateLimitWindow): void {
  const existing = buckets.get(`${rule.operation}:${window}`);
  if (existing) {
    existing.cost += rule.cost;
    return;
  }
  buckets.set(`${rule.operation}:${window}`, {
    pattern: rule.operation,
    window,
    cost: rule.cost,
    limit: rule.points,
    durationMs: windowDurationsMs[window],
    failMode: rule.failMode,
  });
}
