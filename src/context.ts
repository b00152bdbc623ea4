import type { YogaInitialContext } from 'graphql-yoga';
import type { IncomingMessage } from 'node:http';
import type { RequestOrigin } from './audit/audit-log.js';
import type { PendingSessionCheck } from './auth/session-check.js';
import type { RateLimitStatus } from './rate-limit/windows.js';
import type { Logger } from './logger.js';
import type { Services } from './services.js';

/** The caller behind a verified access token. */
export interface Identity {
  userId: string;
  sessionId: string;
}

/** Server context that the Node HTTP adapter passes to Yoga with each request. */
export interface ServerContext {
  req?: IncomingMessage;
}

/** Cookie operations for the response of the current request. */
export interface CookieJar {
  /** The refresh token sent in the request's cookie, if any. */
  refreshToken: string | undefined;
  setRefreshToken(token: string, expiresAt: Date): void;
  clearRefreshToken(): void;
}

export interface GatehouseContext extends YogaInitialContext, ServerContext {
  services: Services;
  origin: RequestOrigin;
  /** The verified caller, or null when no valid access token was sent. */
  identity: Identity | null;
  /** True when an access token was sent but rejected, so `me` fails instead of returning null. */
  rejectedToken: boolean;
  cookies: CookieJar;
  /** The quota status of the operation being executed, set by the useRateLimits plugin. */
  rateLimit?: RateLimitStatus;
  /** Id of this request, from a safe X-Request-Id header or generated; echoed in the response. */
  requestId: string;
  /** Logger whose lines carry `requestId`. */
  logger: Logger;
  /** Set while `identity` still awaits its deny-list check; cleared before any resolver runs. */
  sessionCheck?: PendingSessionCheck;
}
