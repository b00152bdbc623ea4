import type { RequestOrigin } from '../audit/audit-log.js';
import { requestLogger, type Logger } from '../logger.js';
import { userHashTag } from '../state/hash-tags.js';
import type { RedisClient } from '../state/redis.js';
import { responsivenessOf, type RedisResponsiveness } from '../state/redis-responsiveness.js';
import { RevocationFill } from './revocation-fill.js';
import type { RevocationList, RevocationStatus, SessionRef } from './revocations.js';

/**
 * Returns the Redis key of a session's deny-list entry. It carries the user's hash tag, so on a
 * Redis Cluster it shares a slot with the user's quota buckets.
 */
export const revokedKey = (session: SessionRef) => `gatehouse:revoked:${userHashTag(session.userId)}:${session.sessionId}`;

/**
 * Returns the key name without hash tag, which earlier versions read. It is written next to the
 * new key, so an instance still running such a version denies the session during a rolling
 * upgrade. This version never reads it.
 * NOTE: each revocation costs a second SET until the untagged name is dropped in a later version.
 */
export const legacyRevokedKey = (session: SessionRef) => `gatehouse:revoked:${session.sessionId}`;

/**
 * Deny-list in Redis, shared by every instance. Each key expires with the last access token.
 *
 * After each connect the list counts as empty until the fill from PostgreSQL succeeds, because
 * Redis may have lost writes during an outage, and after an upgrade the entries written under
 * older key names are not read. Until then `status` returns `unknown` and `redisKeyOf` undefined,
 * so PostgreSQL decides every lookup.
 */
export class RedisRevocationList implements RevocationList {
  readonly #fill: RevocationFill;
  readonly #responsiveness: RedisResponsiveness;

  constructor(
    private readonly redis: RedisClient,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {
    // A failed fill is tried again while Redis stays connected. Each reconnect starts a new fill.
    this.#fill = new RevocationFill(logger, () => redis.status === 'ready');
    this.#responsiveness = responsivenessOf(redis, logger);
    redis.on('ready', () => this.#fill.start());
    // ioredis 5.11.1 sets `status` to ready and emits 'ready' on the next tick, and requests can
    // run in between. Marking the list unfilled on close keeps them off a Redis that may have
    // restarted empty.
    redis.on('close', () => this.#fill.markUnfilled());
    // A Cluster stays ready while one node restarts empty or a replica that missed writes takes
    // over, so losing the connection to any node starts a new fill. Only a Cluster emits '-node'.
    redis.on('-node', () => this.#fill.invalidate());
  }

  async add(sessions: readonly SessionRef[], origin?: RequestOrigin): Promise<number> {
    if (sessions.length === 0) return 0;
    // One SET per key: the keys of different users hash to different Cluster slots, so a MULTI
    // over all of them would fail with CROSSSLOT. No entry depends on another, so the writes
    // need no transaction.
    const writes = await Promise.allSettled(sessions.map((session) => this.#write(session)));
    const failed = sessions.filter((_, index) => writes[index]?.status === 'rejected');
    if (failed.length > 0) {
      // PostgreSQL already records the revocation. Lookups fall back to PostgreSQL while Redis is
      // down, and the list is filled again from PostgreSQL once Redis is back. A write can also
      // fail while Redis stays connected (OOM, a command timeout), so the list counts as unfilled
      // until a later fill succeeds.
      this.#fill.invalidate();
      const error = writes.find((write) => write.status === 'rejected')?.reason as unknown;
      const sessionIds = failed.map((session) => session.sessionId);
      requestLogger(this.logger, origin).warn({ err: error, sessionIds }, 'revocation not written to redis');
    }

    return failed.length;
  }

  async status(session: SessionRef): Promise<RevocationStatus> {
    if (!this.#fill.filled || !this.#responsiveness.responding) return 'unknown';
    try {
      return (await this.redis.exists(revokedKey(session))) === 1 ? 'revoked' : 'live';
    } catch (error) {
      this.#responsiveness.report(error);
      return 'unknown';
    }
  }

  onResync(fill: () => Promise<void>): void {
    this.#fill.register(fill);
    if (this.redis.status === 'ready') this.#fill.start();
  }

  redisKeyOf(session: SessionRef): string | undefined {
    const usable = this.#fill.filled && this.redis.status === 'ready' && this.#responsiveness.responding;

    return usable ? revokedKey(session) : undefined;
  }

  async #write(session: SessionRef): Promise<void> {
    await Promise.all([
      this.redis.set(revokedKey(session), '1', 'PX', this.ttlMs),
      this.redis.set(legacyRevokedKey(session), '1', 'PX', this.ttlMs),
    ]);
  }
}
