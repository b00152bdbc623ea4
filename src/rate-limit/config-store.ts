import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { patternMatches, patternSpecificity } from './patterns.js';
import type { LimitRule, Plan, RateLimitWindow } from './windows.js';
import { planNames, windowNames } from './windows.js';

/**
 * How long an instance serves its copy of `rate_limit_configs` before reading the table again.
 * A change made on another instance takes effect here within this time plus one request.
 */
export const configCacheTtlMs = 5_000;

/** Used only while the table has never been read, such as when the database is down at start. */
const fallbackRules: LimitRule[] = planNames.flatMap((plan) =>
  windowNames.map((window) => ({
    plan,
    operation: '*',
    window,
    points: { minute: 60, hour: 1000, day: 10_000 }[window],
    cost: 1,
    failMode: 'open' as const,
  })),
);

/**
 * Caches the quota rules of `rate_limit_configs` for {@link configCacheTtlMs}. A stale copy is
 * served while one reload runs in the background, so no request waits for the database except
 * the very first.
 */
export class RateLimitConfigStore {
  #rules: LimitRule[] | undefined;
  #loadedAt = 0;
  #loading: Promise<LimitRule[]> | undefined;
  #invalidated = false;
  /** Counts invalidations, so a read that started before one cannot mark the copy fresh. */
  #generation = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly ttlMs = configCacheTtlMs,
  ) {}

  /** Returns the current rules, reloading them when the copy is older than the TTL. */
  async rules(): Promise<LimitRule[]> {
    return this.servedRules() ?? this.#loading ?? this.#rules ?? fallbackRules;
  }

  /**
   * The rules {@link rules} would return without waiting, or undefined when a caller must wait
   * for a read: before the first read and after {@link invalidate}. Saves the hot path a promise.
   */
  servedRules(): LimitRule[] | undefined {
    const stale = Date.now() - this.#loadedAt >= this.ttlMs;
    if (stale && !this.#loading) this.#startLoad();

    return this.#rules && !this.#invalidated ? this.#rules : undefined;
  }

  /** Makes the next request wait for a fresh copy, so a change written here applies at once. */
  invalidate(): void {
    this.#loadedAt = 0;
    this.#invalidated = true;
    this.#generation += 1;
    // A read already under way may predate the change, so the next call starts a new one.
    this.#loading = undefined;
  }

  #startLoad(): void {
    const loading = this.#load(this.#generation);
    this.#loading = loading;
    void loading.finally(() => {
      if (this.#loading === loading) this.#loading = undefined;
    });
  }

  async #load(generation: number): Promise<LimitRule[]> {
    try {
      const rows = await this.prisma.rateLimitConfig.findMany();
      // A read that started before an invalidation must not replace a newer copy.
      if (generation !== this.#generation) return this.#rules ?? fallbackRules;
      this.#rules = rows.map(({ plan, operation, window, points, cost, failMode }) => ({
        plan,
        operation,
        window,
        points,
        cost,
        failMode,
      }));
      this.#loadedAt = Date.now();
      this.#invalidated = false;
    } catch (error) {
      this.logger.error({ err: error }, 'loading rate limit configs failed, keeping the previous ones');
      // Retry on the next request after a short pause instead of on every request.
      this.#loadedAt = Date.now() - this.ttlMs + 1_000;
    }

    return this.#rules ?? fallbackRules;
  }
}

/**
 * Picks the rule for one root field in one window: the most specific pattern that matches the
 * field name or, failing that, the operation name. Undefined means the window does not limit it.
 *
 * Clients choose operation names, so a rule that matches only the operation name applies only
 * when it allows at most as many points per cost as the rule the field name alone selects.
 * Otherwise any client could name its operation after a looser rule and draw from that bucket.
 */
export function ruleFor(
  rules: readonly LimitRule[],
  plan: Plan,
  window: RateLimitWindow,
  fieldName: string,
  operationName: string | undefined,
): LimitRule | undefined {
  const windowRules = rules.filter((rule) => rule.plan === plan && rule.window === window);
  const fieldRule = mostSpecific(windowRules, (pattern) => patternMatches(pattern, fieldName));
  if (operationName === undefined) return fieldRule;

  const operationRule = mostSpecific(
    windowRules.filter((rule) => !fieldRule || isAtLeastAsStrict(rule, fieldRule)),
    (pattern) => !patternMatches(pattern, fieldName) && patternMatches(pattern, operationName),
  );
  if (!operationRule) return fieldRule;
  if (!fieldRule) return operationRule;

  // A field match ranks above an operation-name match of the same specificity.
  return patternSpecificity(operationRule.operation) > patternSpecificity(fieldRule.operation) ? operationRule : fieldRule;
}

function mostSpecific(rules: readonly LimitRule[], matches: (pattern: string) => boolean): LimitRule | undefined {
  let best: LimitRule | undefined;
  for (const rule of rules) {
    if (!matches(rule.operation)) continue;
    if (!best || patternSpecificity(rule.operation) > patternSpecificity(best.operation)) best = rule;
  }

  return best;
}

/** Compares points per cost without division: `a.points / a.cost <= b.points / b.cost`. */
function isAtLeastAsStrict(candidate: LimitRule, reference: LimitRule): boolean {
  return candidate.points * reference.cost <= reference.points * candidate.cost;
}
