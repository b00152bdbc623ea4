import type { Database } from '../db/database.js';
import type { StopListening } from '../db/notifications.js';
import { withUserScope } from '../db/rls.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { AccessCache, type AccessSnapshot } from './access-cache.js';

/** The channel the access triggers of the database notify with a user id. */
export const accessChannel = 'gatehouse_access';

/**
 * Reads a user's access: the users row for the platform-admin flag (disabled and deleted users
 * are never admins) and, in a transaction scoped to the user so that row-level security
 * applies, their memberships.
 */
export async function loadAccess(prisma: PrismaClient, userId: string, logger: Logger): Promise<AccessSnapshot> {
  const [user, memberships] = await Promise.all([
    prisma.user.findUnique({ where: { id: userId }, select: { isPlatformAdmin: true, disabled: true } }),
    withUserScope(prisma, { userId, isPlatformAdmin: false }, (tx) =>
      tx.workspaceMember.findMany({ where: { userId }, select: { workspaceId: true, role: true } }),
    ),
  ]);
  logger.debug({ userId, memberships: memberships.length }, 'caller access loaded');

  return {
    isPlatformAdmin: user !== null && user.isPlatformAdmin && !user.disabled,
    roles: new Map(memberships.map((member) => [member.workspaceId, member.role])),
  };
}

export interface AccessSource {
  cache: AccessCache;
  close(): Promise<void>;
}

/**
 * Builds the access cache and keeps it in step with the database: it serves entries only while
 * this process listens on {@link accessChannel}, and drops a user's entry when their id arrives.
 * With `ttlMs` 0 nothing listens and every role check reads the database.
 */
export async function openAccessSource(db: Database, ttlMs: number, logger: Logger): Promise<AccessSource> {
  const cache = new AccessCache({ ttlMs, load: (userId) => loadAccess(db.prisma, userId, logger) });
  if (ttlMs === 0) return { cache, close: async () => undefined };
  const stop: StopListening = await db.listen(accessChannel, {
    onMessage: (userId) => cache.forget(userId),
    onListening: () => cache.activate(),
    onLost: () => {
      cache.deactivate();
      logger.warn('access cache off until the database listener is back: role checks read the database');
    },
  });

  return { cache, close: stop };
}
