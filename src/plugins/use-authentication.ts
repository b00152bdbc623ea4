import type { Plugin } from 'graphql-yoga';
import { AccessTokenError, type AccessTokens } from '../auth/access-tokens.js';
import type { SessionActivity } from '../auth/session-activity.js';
import type { SessionService } from '../auth/session-service.js';
import type { GatehouseContext, Identity } from '../context.js';
import type { PendingSessionCheck } from '../auth/session-check.js';

export interface AuthenticationOptions {
  accessTokens: AccessTokens;
  sessions: SessionService;
  /** Records each session's use, throttled; without it `lastUsedAt` changes only on refresh. */
  activity?: SessionActivity;
}

/** Reads a bearer token from the Authorization header; undefined when there is none. */
function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer[ ]+([^ ]+)$/i.exec(header.trim());

  return match?.[1] ?? '';
}

/**
 * Verifies the access token of each request and puts the caller on the context. A request
 * without a token is anonymous. A rejected token also sets `rejectedToken`, so fields that need
 * a caller fail with UNAUTHENTICATED while public fields such as `refreshToken` still work.
 *
 * While the deny-list is in a connected Redis, the revocation check is left to execution time
 * through `sessionCheck`: useRateLimits reads it in its script call, and useSessionCheck reads
 * it for every operation that reached execution without that call. Everywhere else it runs here.
 */
export function useAuthentication(
  options: AuthenticationOptions,
): Plugin<{ identity: Identity | null; rejectedToken: boolean; sessionCheck?: PendingSessionCheck }> {
  const { accessTokens, sessions, activity } = options;

  return {
    async onContextBuilding({ context: initial, extendContext }) {
      // useRequestId and Yoga's context factory ran before this hook, so `logger` and `origin` are set.
      const context = initial as typeof initial & Pick<GatehouseContext, 'logger' | 'origin'>;
      const token = bearerToken(context.request);
      if (token === undefined) {
        extendContext({ identity: null, rejectedToken: false });
        return;
      }
      try {
        const claims = await accessTokens.verify(token);
        const revocationKey = sessions.revocationKeyOf(claims.sessionId);
        if (revocationKey !== undefined) {
          // The write is guarded by `revokedAt IS NULL`, so a revoked session is never touched.
          await activity?.touch(claims.sessionId, context.origin);
          const identity = { userId: claims.userId, sessionId: claims.sessionId };
          extendContext({ identity, rejectedToken: false, sessionCheck: { sessionId: claims.sessionId, revocationKey } });
          return;
        }
        if (!(await sessions.isSessionLive(claims.sessionId))) {
          context.logger.info({ sessionId: claims.sessionId, reason: 'session_revoked' }, 'access token rejected');
          extendContext({ identity: null, rejectedToken: true });
          return;
        }
        await activity?.touch(claims.sessionId, context.origin);
        extendContext({ identity: { userId: claims.userId, sessionId: claims.sessionId }, rejectedToken: false });
      } catch (error) {
        if (!(error instanceof AccessTokenError)) throw error;
        context.logger.info({ reason: error.reason }, 'access token rejected');
        extendContext({ identity: null, rejectedToken: true });
      }
    },
  };
}
