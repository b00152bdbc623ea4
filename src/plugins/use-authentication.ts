import type { Plugin } from 'graphql-yoga';
import { AccessTokenError, type AccessTokenClaims, type AccessTokens } from '../auth/access-tokens.js';
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
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer[ ]+([^ ]+)$/i.exec(header.trim());

  return match?.[1] ?? '';
}

/** The context fields this plugin sets. */
interface AuthenticatedContext {
  identity: Identity | null;
  rejectedToken: boolean;
  sessionCheck?: PendingSessionCheck;
}

/** Builds the context fields for a valid token whose deny-list check is left to execution. */
function checkedLater(claims: AccessTokenClaims, revocationKey: string): AuthenticatedContext {
  const identity = { userId: claims.userId, sessionId: claims.sessionId };

  return { identity, rejectedToken: false, sessionCheck: { ...identity, revocationKey } };
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
export function useAuthentication(options: AuthenticationOptions): Plugin<AuthenticatedContext> {
  const { accessTokens, sessions, activity } = options;
  type Context = Pick<GatehouseContext, 'logger' | 'origin'>;
  type Extend = (extension: AuthenticatedContext) => void;

  /** Verifies the token and checks the session, for every case the synchronous path leaves. */
  async function authenticate(context: Context, token: string, extendContext: Extend): Promise<void> {
    try {
      const claims = await accessTokens.verify(token);
      const revocationKey = sessions.revocationKeyOf(claims);
      if (revocationKey !== undefined) {
        // The write is guarded by `revokedAt IS NULL`, so a revoked session is never touched.
        await activity?.touch(claims.sessionId, context.origin);
        extendContext(checkedLater(claims, revocationKey));
        return;
      }
      if (!(await sessions.isSessionLive(claims))) {
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
  }

  return {
    onContextBuilding({ context: initial, extendContext }) {
      // useRequestId and Yoga's context factory ran before this hook, so `logger` and `origin` are set.
      const context = initial as typeof initial & Context;
      const token = bearerToken(context.request);
      if (token === undefined) {
        extendContext({ identity: null, rejectedToken: false });
        return undefined;
      }
      // A token verified before, with the deny-list check left to execution, usually needs no
      // waiting here. The hook then returns no promise, which saves the request a few ticks.
      const claims = accessTokens.cachedClaims(token);
      const revocationKey = claims && sessions.revocationKeyOf(claims);
      if (!claims || revocationKey === undefined) return authenticate(context, token, extendContext);
      const touched = activity?.touch(claims.sessionId, context.origin);
      if (!touched) {
        extendContext(checkedLater(claims, revocationKey));
        return undefined;
      }

      return touched.then(() => extendContext(checkedLater(claims, revocationKey)));
    },
  };
}
