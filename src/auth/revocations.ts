import type { RedisClient } from '../state/redis.js';
import type { Logger } from '../logger.js';

/** Result of a deny-list lookup. `unknown` means the list could not be read. */
export type RevocationStatus = 'revoked' | 'live' | 'unknown';

/**
 * Sessions whose access tokens must be rejected before they expire. An entry lives as long as
 * the longest access token of its session, so the list stays small.
 */
export interface RevocationList {
  add(sessionIds: readonly string[]): Promise<void>;
  status(sessionId: string): Promise<RevocationStatus>;
  /** Calls `listener` whenever the list may have missed writes and should be filled again. */
  onResync(listener: () => void): void;
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

const revokedKey = (sessionId: string) => `gatehouse:revoked:${sessionId}`;

/** Deny-list in Redis, shared by every instance. Each key expires with the last access token. */
export class RedisRevocationList implements RevocationList {
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  async add(sessionIds: readonly string[]): Promise<void> {
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
      this.logger.warn({ err: error, sessionIds: failed }, 'revocation not written to redis');
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
}
