import type { RequestOrigin } from '../audit/audit-log.js';
import type { RevocationStatus } from '../auth/revocations.js';
import type { RateLimitFailMode } from './windows.js';

/** One bucket a request draws from: one config pattern in one window for one caller. */
export interface BucketRequest {
  key: string;
  cost: number;
  limit: number;
  durationMs: number;
  failMode: RateLimitFailMode;
}

/** A bucket's points consumed so far in its window and the time until the window resets. */
export interface BucketState {
  consumed: number;
  ttlMs: number;
}

export interface ConsumeResult {
  /** False when an enforced bucket lacks the points. Then nothing was consumed anywhere. */
  allowed: boolean;
  /** One state per requested bucket, in request order. */
  buckets: BucketState[];
  /** True when a Redis store counted in its in-memory insurance instead of Redis. */
  degraded: boolean;
  /**
   * The deny-list status of the `revocationKey` passed to `consume`; undefined when none was
   * passed. `revoked` means nothing was consumed and `buckets` is empty.
   */
  revocation?: RevocationStatus;
}

/** Storage of quota counters: Redis shared by all instances, or this process's memory. */
export interface QuotaStore {
  /**
   * Checks every bucket and consumes the costs from all of them, or from none when one lacks
   * the points, as one atomic step. A Redis store also reads `revocationKey`, a session's
   * deny-list key in the same Redis, in the same call; other stores ignore it.
   */
  consume(requests: readonly BucketRequest[], revocationKey?: string): Promise<ConsumeResult>;
  /**
   * Returns true only for the first call per key until `ttlMs` passes. `origin` gives a
   * failure's log line its request id.
   */
  markOnce(key: string, ttlMs: number, origin?: RequestOrigin): Promise<boolean>;
  /** True while the store counts in memory because its shared backend is unreachable. */
  readonly degraded: boolean;
  close(): void;
}

interface Counter {
  consumed: number;
  expiresAt: number;
}

const sweepIntervalMs = 30_000;

/**
 * Counts quotas in this process. Node runs `consume` without yielding, so it is atomic per
 * instance. Expired counters are swept every 30 s, so memory stays bounded by the callers
 * active within one day.
 */
export class MemoryQuotaStore implements QuotaStore {
  readonly degraded = false;
  readonly #counters = new Map<string, Counter>();
  readonly #marks = new Map<string, number>();
  readonly #sweeper: NodeJS.Timeout;

  /**
   * @param enforceOpenLimits false when this store replaces an unreachable Redis: then limits with fail
   *   mode `open` are counted but never reject. @default true
   */
  constructor(private readonly enforceOpenLimits = true) {
    this.#sweeper = setInterval(() => this.#sweep(Date.now()), sweepIntervalMs);
    this.#sweeper.unref();
  }

  async consume(requests: readonly BucketRequest[]): Promise<ConsumeResult> {
    const now = Date.now();
    const counters = requests.map((request) => this.#counter(request, now));
    const allowed = requests.every(
      (request, index) => !this.#enforced(request) || counters[index]!.consumed + request.cost <= request.limit,
    );
    if (allowed) requests.forEach((request, index) => (counters[index]!.consumed += request.cost));
    const buckets = counters.map((counter) => ({ consumed: counter.consumed, ttlMs: counter.expiresAt - now }));

    return { allowed, buckets, degraded: false };
  }

  async markOnce(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    if ((this.#marks.get(key) ?? 0) > now) return false;
    this.#marks.set(key, now + ttlMs);

    return true;
  }

  close(): void {
    clearInterval(this.#sweeper);
  }

  #enforced(request: BucketRequest): boolean {
    return this.enforceOpenLimits || request.failMode === 'closed';
  }

  #counter(request: BucketRequest, now: number): Counter {
    let counter = this.#counters.get(request.key);
    if (!counter || counter.expiresAt <= now) {
      counter = { consumed: 0, expiresAt: now + request.durationMs };
      this.#counters.set(request.key, counter);
    }

    return counter;
  }

  #sweep(now: number): void {
    for (const [key, counter] of this.#counters) if (counter.expiresAt <= now) this.#counters.delete(key);
    for (const [key, expiresAt] of this.#marks) if (expiresAt <= now) this.#marks.delete(key);
  }
}
