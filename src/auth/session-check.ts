import type { GatehouseContext } from '../context.js';
import type { RevocationStatus } from './revocations.js';

/**
 * A verified access token whose session has not been checked against the deny-list yet. The
 * check runs before execution, inside the rate-limit script call when there is one, so an
 * authenticated request costs one Redis command.
 */
export interface PendingSessionCheck {
  /** The token's subject, whose hash tag the deny-list key carries. */
  userId: string;
  sessionId: string;
  /** The session's deny-list key in Redis. */
  revocationKey: string;
}

/**
 * Applies a deny-list status to the context: a revoked session leaves the request anonymous
 * with `rejectedToken` set, so fields that need a caller fail with UNAUTHENTICATED. `unknown`
 * (Redis unreachable) is decided by PostgreSQL. Returns whether the session is live.
 */
export async function settleSessionCheck(context: GatehouseContext, status: RevocationStatus): Promise<boolean> {
  const pending = context.sessionCheck;
  if (!pending) return context.identity !== null;
  context.sessionCheck = undefined;
  const live = await context.services.sessions.isSessionLiveWith(pending.sessionId, status);
  if (!live) {
    context.logger.info({ sessionId: pending.sessionId, reason: 'session_revoked' }, 'access token rejected');
    context.identity = null;
    context.rejectedToken = true;
  }

  return live;
}
