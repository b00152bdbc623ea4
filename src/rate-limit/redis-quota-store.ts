import type { RedisClient } from '../state/redis.js';
import type { RequestOrigin } from '../audit/audit-log.js';
import { requestLogger, type Logger } from '../logger.js';
import { responsivenessOf, type RedisResponsiveness } from '../state/redis-responsiveness.js';
import { MemoryQuotaStore, type BucketRequest, type ConsumeResult, type QuotaStore } from './quota-store.js';

/**
 * Checks all buckets first and consumes from all or none, so concurrent requests can never
 * overdraw a bucket. ARGV[1] is 1 when KEYS[1] is the caller's revocation deny-list key
 * (`gatehouse:revoked:{user:<id>}:<sid>`), else 0. The remaining KEYS are the buckets, and ARGV
 * contains cost, limit and window length in ms per bucket after ARGV[1]. Returns {-1} and
 * consumes nothing when the deny-list key exists, else {allowed, consumed1, ttl1, consumed2,
 * ttl2, ...}. Every key it writes gets a PEXPIRE, so no counter outlives its window.
 *
 * The deny-list key and the user's bucket keys share the hash tag `{user:<id>}`, so on a Redis
 * Cluster too they sit in one slot and an authenticated request costs this one command.
 */
const consumeScript = `
local first = 1
if ARGV[1] == '1' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
  first = 2
end
local allowed = 1
for i = first, #KEYS do
  local arg = (i - first) * 3 + 1
  local cost = tonumber(ARGV[arg + 1])
  local limit = tonumber(ARGV[arg + 2])
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if current + cost > limit then allowed = 0 end
end
local out = {allowed}
for i = first, #KEYS do
  local arg = (i - first) * 3 + 1
  local cost = tonumber(ARGV[arg + 1])
  local window = tonumber(ARGV[arg + 3])
  local consumed
  if allowed == 1 then
    consumed = redis.call('INCRBY', KEYS[i], cost)
  else
    consumed = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl == -1 then
    redis.call('PEXPIRE', KEYS[i], window)
    ttl = window
  elseif ttl == -2 then
    ttl = window
  end
  out[#out + 1] = consumed
  out[#out + 1] = ttl
end
return out
`;

type ConsumeCommand = (numberOfKeys: number, ...keysAndArgs: (string | number)[]) => Promise<number[]>;

/**
 * Counts quotas in Redis with one script call per request, which is one round trip. While Redis
 * is unreachable it counts in an in-memory insurance store within the client's command
 * timeout: limits with fail mode `closed` are enforced per instance, `open` ones only counted.
 * It logs the start and the end of each outage once and returns to Redis on its own.
 */
export class RedisQuotaStore implements QuotaStore {
  readonly #insurance = new MemoryQuotaStore(false);
  readonly #consume: ConsumeCommand;
  readonly #responsiveness: RedisResponsiveness;
  #degraded = false;

  get degraded(): boolean {
    return this.#degraded;
  }

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
  ) {
    redis.defineCommand('gatehouseRateLimitConsume', { lua: consumeScript });
    const commands = redis as unknown as Record<string, ConsumeCommand>;
    this.#consume = commands.gatehouseRateLimitConsume!.bind(redis);
    this.#responsiveness = responsivenessOf(redis, logger);
  }

  async consume(requests: readonly BucketRequest[], revocationKey?: string): Promise<ConsumeResult> {
    if (requests.length === 0 && revocationKey === undefined) {
      return { allowed: true, buckets: [], degraded: this.#degraded };
    }
    // A client that is not ready rejects at once, so checking first skips building the call.
    if (!this.#reachable()) return this.#fallBack(requests, undefined, revocationKey);
    const keys = requests.map((request) => request.key);
    if (revocationKey !== undefined) keys.unshift(revocationKey);
    const args = requests.flatMap((request) => [request.cost, request.limit, request.durationMs]);
    try {
      const reply = await this.#consume(keys.length, ...keys, revocationKey === undefined ? 0 : 1, ...args);
      this.#recovered();
      if (reply[0] === -1) return { allowed: true, buckets: [], degraded: false, revocation: 'revoked' };
      const buckets = requests.map((_, index) => ({
        consumed: Number(reply[index * 2 + 1]),
        ttlMs: Number(reply[index * 2 + 2]),
      }));
      const revocation = revocationKey === undefined ? undefined : 'live';

      return { allowed: reply[0] === 1, buckets, degraded: false, revocation };
    } catch (error) {
      this.#responsiveness.report(error);
      return this.#fallBack(requests, error, revocationKey);
    }
  }

  async markOnce(key: string, ttlMs: number, origin?: RequestOrigin): Promise<boolean> {
    if (this.#degraded || !this.#reachable()) return this.#insurance.markOnce(key, ttlMs);
    try {
      return (await this.redis.set(key, '1', 'PX', Math.max(ttlMs, 1), 'NX')) === 'OK';
    } catch (error) {
      this.#responsiveness.report(error);
      requestLogger(this.logger, origin).warn({ err: error, key }, 'marking a rate limit event in redis failed; using memory');

      return this.#insurance.markOnce(key, ttlMs);
    }
  }

  close(): void {
    this.#insurance.close();
  }

  /** False while the client is disconnected, or connected to a Redis that stopped responding. */
  #reachable(): boolean {
    return this.redis.status === 'ready' && this.#responsiveness.responding;
  }

  /** Counts in memory; a requested deny-list read is `unknown`, so the caller asks PostgreSQL. */
  async #fallBack(requests: readonly BucketRequest[], error: unknown, revocationKey?: string): Promise<ConsumeResult> {
    if (!this.#degraded) {
      this.#degraded = true;
      this.logger.error(
        { err: error, redisStatus: this.redis.status },
        'rate limits degraded: redis unreachable, counting per instance in memory',
      );
    }

    const revocation = revocationKey === undefined ? undefined : 'unknown';

    return { ...(await this.#insurance.consume(requests)), degraded: true, revocation };
  }

  #recovered(): void {
    if (!this.#degraded) return;
    this.#degraded = false;
    this.logger.info('rate limits restored: counting in redis again');
  }
}
