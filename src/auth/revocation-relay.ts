import type { RequestOrigin } from '../audit/audit-log.js';
import type { Database } from '../db/database.js';
import type { StopListening } from '../db/notifications.js';
import { requestLogger, type Logger } from '../logger.js';
import { isUuid } from '../rbac/workspace-access.js';
import type { RevocationList, SessionRef } from './revocations.js';

/** The channel on which an instance sends the ids of sessions it could not write to Redis. */
export const revocationChannel = 'gatehouse_revocations';

/** Session ids per notification: 37 bytes each keeps a payload below PostgreSQL's 8000 bytes. */
const sessionsPerNotification = 200;

/**
 * Passes revocations that an instance could not write to Redis to the instances that can.
 *
 * An instance cut off from Redis checks sessions in PostgreSQL, but the others read only the
 * deny-list in Redis, so they would accept the revoked session's access tokens until the cut-off
 * instance reconnects and fills the list again. Through a PostgreSQL notification each
 * instance writes those sessions to Redis itself, and the first one that reaches Redis closes the gap.
 */
export class RevocationRelay {
  #target: RevocationList | undefined;
  #stop: StopListening | undefined;
  #catchUp: (() => Promise<void>) | undefined;
  /**
   * Whether notifications may have been missed: before the listener first runs and after it loses
   * its connection, until the next catch-up. The fill at start reads PostgreSQL before LISTEN, and
   * a notification sent in between never arrives.
   */
  #missed = true;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /**
   * Returns `list` with an `add` that publishes the sessions of a call whose Redis writes failed.
   * Sessions received from other instances go to `list` itself, so they are never sent again.
   */
  wrap(list: RevocationList): RevocationList {
    this.#target = list;

    return {
      add: async (sessions, origin) => {
        const unwritten = await list.add(sessions, origin);
        if (unwritten > 0) await this.#publish(sessions, origin);

        return unwritten;
      },
      status: (session) => list.status(session),
      onResync: (fill) => list.onResync(fill),
      redisKeyOf: list.redisKeyOf ? (session) => list.redisKeyOf!(session) : undefined,
    };
  }

  /**
   * Sets `catchUp`, which writes the recent revocations from PostgreSQL to the deny-list. It runs
   * once the listener first runs and each time it is back after a lost connection, because the
   * notifications sent meanwhile are gone, and their sessions would stay usable on this instance
   * until they expire.
   */
  catchUpWith(catchUp: () => Promise<void>): void {
    this.#catchUp = catchUp;
  }

  /** Starts listening on {@link revocationChannel}, over a connection of its own. */
  async start(): Promise<void> {
    const handlers = {
      onMessage: (payload: string) => void this.#receive(payload),
      onListening: () => void this.#catchUpIfMissed(),
      onLost: () => {
        this.#missed = true;
        this.logger.warn('relayed revocations may be missed until the database listener is back');
      },
    };
    this.#stop = await this.db.listen(revocationChannel, handlers, 'gatehouse-revocation-listener');
  }

  async stop(): Promise<void> {
    await this.#stop?.();
  }

  async #catchUpIfMissed(): Promise<void> {
    if (!this.#missed || !this.#catchUp) return;
    this.#missed = false;
    try {
      await this.#catchUp();
      this.logger.info('caught up on revocations the database listener may have missed');
    } catch (error) {
      // A failed write leaves the deny-list unfilled, so it fills itself again from PostgreSQL.
      this.logger.error({ err: error }, 'writing revocations missed by the database listener failed');
    }
  }

  async #publish(sessions: readonly SessionRef[], origin?: RequestOrigin): Promise<void> {
    const ids = sessions.map((session) => session.sessionId);
    for (let start = 0; start < ids.length; start += sessionsPerNotification) {
      const payload = ids.slice(start, start + sessionsPerNotification).join(',');
      try {
        await this.db.prisma.$queryRaw`SELECT 1 AS sent FROM (SELECT pg_notify(${revocationChannel}, ${payload})) AS notified`;
      } catch (error) {
        // PostgreSQL has the revocation. The sending instance refills Redis when it reconnects.
        requestLogger(this.logger, origin).error({ err: error, sessionIds: ids }, 'relaying revocations failed');
      }
    }
  }

  async #receive(payload: string): Promise<void> {
    const ids = payload.split(',').filter(isUuid).slice(0, sessionsPerNotification);
    if (ids.length === 0 || !this.#target) return;
    try {
      // Any database role can notify, so only sessions that PostgreSQL records as revoked count.
      const rows = await this.db.prisma.session.findMany({
        where: { id: { in: ids }, revokedAt: { not: null } },
        select: { id: true, userId: true },
      });
      await this.#target.add(rows.map((row) => ({ userId: row.userId, sessionId: row.id })));
    } catch (error) {
      this.logger.error({ err: error, sessionIds: ids }, 'writing relayed revocations failed');
    }
  }
}
