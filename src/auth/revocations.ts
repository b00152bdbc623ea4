import type { RequestOrigin } from '../audit/audit-log.js';
import type { Logger } from '../logger.js';
import { RevocationFill } from './revocation-fill.js';

/** Result of a deny-list lookup. `unknown` means the list could not be read. */
export type RevocationStatus = 'revoked' | 'live' | 'unknown';

/** A session and the user it belongs to. Deny-list keys carry the user's hash tag. */
export interface SessionRef {
  userId: string;
  sessionId: string;
}

/**
 * Sessions whose access tokens must be rejected before they expire. An entry lives as long as
 * the longest access token of its session, so the list stays small.
 */
export interface RevocationList {
  /**
   * Denies the sessions' access tokens and returns how many entries could not be written. A
   * failed write is logged, not thrown. `origin` gives a failure's log line its request id.
   */
  add(sessions: readonly SessionRef[], origin?: RequestOrigin): Promise<number>;
  status(session: SessionRef): Promise<RevocationStatus>;
  /**
   * Registers `fill`, which copies the revocations that may matter from PostgreSQL into the list.
   * A shared list runs it when it connects and after every reconnect, because it may have missed
   * writes. A list in memory runs it once, at start, because a restart emptied it. Reads return
   * `unknown` until a run succeeds.
   */
  onResync(fill: () => Promise<void>): void;
  /**
   * Returns the Redis key of a session's entry while the list is in a connected and filled Redis,
   * so a caller can read it inside its own script call. Undefined otherwise: then call `status`.
   */
  redisKeyOf?(session: SessionRef): string | undefined;
}

/** Wraps a list so that `onAdd` runs for every revocation written through this instance. */
export function withRevocationListener(
  list: RevocationList,
  onAdd: (sessionIds: readonly string[]) => void,
): RevocationList {
  return {
    async add(sessions, origin) {
      onAdd(sessions.map((session) => session.sessionId));

      return list.add(sessions, origin);
    },
    status: (session) => list.status(session),
    onResync: (fill) => list.onResync(fill),
    redisKeyOf: list.redisKeyOf ? (session) => list.redisKeyOf!(session) : undefined,
  };
}

/**
 * Deny-list in this process only: the single-instance default when REDIS_URL is not set.
 *
 * The list starts empty, so sessions revoked before a restart would pass. `onResync` therefore
 * fills it once from PostgreSQL, and until that succeeds `status` returns `unknown`, so
 * PostgreSQL decides every lookup. A failed fill is tried again until `closing` aborts.
 */
export class MemoryRevocationList implements RevocationList {
  readonly #expiries = new Map<string, number>();
  readonly #fill: RevocationFill;

  /**
   * @param ttlMs how long an entry lives, in ms: the access-token lifetime plus the clock skew.
   * @param closing aborts when the app closes, which ends the retries of a failed fill.
   */
  constructor(
    private readonly ttlMs: number,
    logger: Logger,
    closing?: AbortSignal,
  ) {
    this.#fill = new RevocationFill(logger, () => !closing?.aborted);
  }

  async add(sessions: readonly SessionRef[]): Promise<number> {
    const now = Date.now();
    this.#sweep(now);
    for (const session of sessions) this.#expiries.set(session.sessionId, now + this.ttlMs);

    return 0;
  }

  async status(session: SessionRef): Promise<RevocationStatus> {
    if (!this.#fill.filled) return 'unknown';
    const expiry = this.#expiries.get(session.sessionId);

    return expiry !== undefined && expiry > Date.now() ? 'revoked' : 'live';
  }

  onResync(fill: () => Promise<void>): void {
    this.#fill.register(fill);
    this.#fill.start();
  }

  #sweep(now: number): void {
    for (const [id, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(id);
  }
}
