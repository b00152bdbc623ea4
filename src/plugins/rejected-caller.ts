import type { RequestOrigin } from '../audit/audit-log.js';
import { AccessTokenError, type AccessTokens } from '../auth/access-tokens.js';
import type { SessionService } from '../auth/session-service.js';
import { requestLogger, type Logger } from '../logger.js';
import { bearerToken } from './use-authentication.js';

/** The caller that an operation rejected before execution is charged to. */
export interface RejectedCaller {
  /** The user of a valid access token, or null to charge the client address. */
  userId: string | null;
  origin: RequestOrigin;
  /** The session's deny-list key in Redis, read in the same call as the quota. */
  revocationKey?: string;
}

export interface RejectedCallerOptions {
  accessTokens: AccessTokens;
  sessions: SessionService;
  logger: Logger;
}

export type RejectedCallerResolver = (request: Request, origin: RequestOrigin) => Promise<RejectedCaller>;

/**
 * Builds a function that finds the caller of a request whose GraphQL context was never built,
 * such as one with an unparsable document. It reads the bearer token as useAuthentication does:
 * a valid token of a live session names the user, anything else leaves the client address. With
 * the deny-list in Redis, the session check is left to the quota call through `revocationKey`.
 */
export function createRejectedCallerResolver(options: RejectedCallerOptions): RejectedCallerResolver {
  const { accessTokens, sessions } = options;

  return async (request, origin) => {
    const token = bearerToken(request);
    if (!token) return { userId: null, origin };
    let claims;
    try {
      claims = await accessTokens.verify(token);
    } catch (error) {
      if (!(error instanceof AccessTokenError)) throw error;
      requestLogger(options.logger, origin).info({ reason: error.reason }, 'access token rejected');
      return { userId: null, origin };
    }
    const revocationKey = sessions.revocationKeyOf(claims);
    if (revocationKey !== undefined) return { userId: claims.userId, origin, revocationKey };
    if (await sessions.isSessionLive(claims)) return { userId: claims.userId, origin };

    return { userId: null, origin };
  };
}
