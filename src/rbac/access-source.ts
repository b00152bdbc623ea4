import type { Database } from '../db/database.js';
import type { StopListening } from '../db/notifications.js';
import { withUserScope } from '../db/rls.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { RequestOrigin } from '../audit/audit-log.js';
import { requestLogger, type Logger } from '../logger.js';
import { AccessCache, type AccessSnapshot } from './access-cache.js';
import { isUuid } from './workspace-access.js';

/** The channel on which the membership triggers send a user id, or `*` after a TRUNCATE. */
export const accessChannel = 'gatehouse_access';

/**
 * Reads a user's memberships in a transaction scoped to the user, so row-level security
 * applies. The debug line carries the request id of `origin`.
 */
export async function loadAccess(
  prisma: PrismaClient,
  userId: string,
  logger: Logger,
  origin?: RequestOrigin,
): Promise<AccessSnapshot> {
  const memberships = await withUserScope(prisma, { userId, isPlatformAdmin: false }, (tx) =>
    tx.workspaceMember.findMany({ where: { userId }, select: { workspaceId: true, role: true } }),
  );
  // With debug lines off, the check saves the child logger that carries the request id.
  if (logger.isLevelEnabled('debug')) {
    requestLogger(logger, origin).debug({ userId, memberships: memberships.length }, 'caller access loaded');
  }

  return { roles: new Map(memberships.map((member) => [member.workspaceId, member.role])) };
}

/**
 * Applies one notification. Any role may send on the channel, so payloads other than a user id
 * or `*` are ignored rather than allowed to empty the cache over and over.
 */
function applyNotification(cache: AccessCache, payload: string): void {
  if (payload === '*') cache.forgetAll();
  else if (isUuid(payload)) cache.forget(payload);
}

export interface AccessSource {
  cache: AccessCache;
  close(): Promise<void>;
}

/**
 * Builds the access cache and keeps it in step with the database. The cache serves entries only
 * while this process listens on {@link accessChannel}, and drops a user's entry when their id
 * arrives. With `ttlMs` 0 nothing listens and every role check reads the database.
 */
export async function openAccessSource(db: Database, ttlMs: number, logger: Logger): Promise<AccessSource> {
  const cache = new AccessCache({ ttlMs, load: (userId, origin) => loadAccess(db.prisma, userId, logger, origin) });
  if (ttlMs === 0) return { cache, close: async () => undefined };
  const stop: StopListening = await db.listen(accessChannel, {
    onMessage: (payload) => applyNotification(cache, payload),
    onListening: () => cache.activate(),
    onLost: () => {
      cache.deactivate();
      logger.warn('access cache off until the database listener is back: role checks read the database');
    },
  });

  return { cache, close: stop };
}
