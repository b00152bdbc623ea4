import type { RedisClient } from '../state/redis.js';
import type { RequestOrigin } from '../audit/audit-log.js';
import { requestLogger, type Logger } from '../logger.js';

/** Result of a deny-list lookup. `unknown` means the list could not be read. */
export type RevocationStatus = 'revoked' | 'live' | 'unknown';

/**
 * Sessions whose access tokens must be rejected before they expire. An entry lives as long as
 * the longest access token of its session, so the list stays small.
 */
export interface RevocationList {
  /** Denies the sessions' access tokens. `origin` gives a failure's log line its request id. */
  add(sessionIds: readonly string[], origin?: RequestOrigin): Promise<void>;
  status(sessionId: string): Promise<RevocationStatus>;
  /** Calls `listener` whenever the list may have missed writes and should be filled again. */
  onResync(listener: () => void): void;
  /**
   * Returns the Redis key of a session's entry while the list is in a connected Redis, so a
   * caller can read it inside its own script call. Undefined otherwise: then call `status`.
   */
  redisKeyOf?(sessionId: string): string | undefined;
}

/** Wraps a list so that `onAdd` runs for every revocation written through this instance. */
export function withRevocationListener(
  list: RevocationList,
  onAdd: (sessionIds: readonly string[]) => void,
): RevocationList {
  return {
    async add(sessionIds, origin) {
      onAdd(sessionIds);
      await list.add(sessionIds, origin);
    },
    status: (sessionId) => list.status(sessionId),
    onResync: (listener) => list.onResync(listener),
    redisKeyOf: list.redisKeyOf ? (sessionId) => list.redisKeyOf!(sessionId) : undefined,
  };
}

/** Deny-list in this process only: the single-instance default when REDIS_URL is not set. */
export class MemoryRevocationList implements RevocationList {
  readonly #expiries = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  async add(sessionIds: readonly string[]): Promise<void> {
    const now = Date.now();
    this.#sweep(now);
    for (const id of sessionIds) this.#expiries.set(id, now + this.ttlMs);
  }

  async status(sessionId: string): Promise<RevocationStatus> {
    const expiry = this.#expiries.get(sessionId);

    return expiry !== undefined && expiry > Date.now() ? 'revoked' : 'live';
  }

  onResync(): void {}

  #sweep(now: number): void {
    for (const [id, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(id);
  }
}

export const revokedKey = (sessionId: string) => `gatehouse:revoked:${sessionId}`;

/** Deny-list in Redis, shared by every instance. Each key expires with the last access token. */
export class RedisRevocationList implements RevocationList {
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  async add(sessionIds: readonly string[], origin?: RequestOrigin): Promise<void> {
    if (sessionIds.length === 0) return;
    // One SET per key: the keys of different sessions hash to different Cluster slots, so a
    // MULTI over all of them would fail with CROSSSLOT. No entry depends on another, so the
    // writes need no transaction.
    const writes = await Promise.allSettled(
      sessionIds.map((id) => this.redis.set(revokedKey(id), '1', 'PX', this.ttlMs)),
    );
    const failed = sessionIds.filter((_, index) => writes[index]?.status === 'rejected');
    if (failed.length > 0) {
      // PostgreSQL already records the revocation. Lookups fall back to PostgreSQL while Redis is
      // down, and the list is filled again from PostgreSQL once Redis is back.
      const error = writes.find((write) => write.status === 'rejected')?.reason as unknown;
      requestLogger(this.logger, origin).warn({ err: error, sessionIds: failed }, 'revocation not written to redis');
    }
  }

  async status(sessionId: string): Promise<RevocationStatus> {
    try {
      return (await this.redis.exists(revokedKey(sessionId))) === 1 ? 'revoked' : 'live';
    } catch {
      return 'unknown';
    }
  }

  onResync(listener: () => void): void {
    this.redis.on('ready', listener);
  }

  redisKeyOf(sessionId: string): string | undefined {
    // A cluster keeps the deny-list key and the quota keys in different slots, so one script
    // cannot read both: there the deny-list is read with its own EXISTS.
    if (this.redis.isCluster) return undefined;

    return this.redis.status === 'ready' ? revokedKey(sessionId) : undefined;
  }
}
