import type { IssuedTokens } from '../../auth/auth-service.js';
import type { GatehouseContext } from '../../context.js';
import { invalidRefreshTokenError, isGatehouseError, type ErrorCode } from '../../errors.js';

/**
 * Refresh failures that no retry of the same token can fix. Only these clear the refresh cookie.
 * Every other error keeps it, so that an outage (database or Redis unavailable,
 * INTERNAL_SERVER_ERROR) or RATE_LIMITED does not log every browser out. Requests rejected
 * before execution, such as CSRF_HEADER_MISSING or HOST_NOT_ALLOWED, never reach the resolver.
 */
export const finalRefreshFailureCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_REFRESH_TOKEN',
  'REFRESH_TOKEN_REUSED',
  'SESSION_EXPIRED',
  'ACCOUNT_DISABLED',
]);

/**
 * Rotates the refresh token from the `token` argument or else the cookie, and keeps the cookie
 * in step. The cookie gets the new token, and a final failure of the cookie's own token clears it,
 * so the browser stops retrying a dead token. An argument that differs from the cookie's token
 * leaves the cookie alone: its new tokens go to the response body only, because replacing the
 * cookie would switch the browser to that session and strand the cookie's session.
 */
export async function refreshWithCookie(context: GatehouseContext, token: string | null | undefined): Promise<IssuedTokens> {
  const cookieToken = context.cookies.refreshToken;
  const presented = token ?? cookieToken;
  const fromCookie = cookieToken !== undefined && presented === cookieToken;
  const updatesCookie = cookieToken === undefined || fromCookie;
  try {
    if (!presented) throw invalidRefreshTokenError();
    const tokens = await context.services.sessions.refresh(presented, context.origin);
    if (updatesCookie) context.cookies.setRefreshToken(tokens.refreshToken, tokens.refreshTokenExpiresAt);

    return tokens;
  } catch (error) {
    if (fromCookie && isFinalRefreshFailure(error)) context.cookies.clearRefreshToken();
    throw error;
  }
}

function isFinalRefreshFailure(error: unknown): boolean {
  return isGatehouseError(error) && finalRefreshFailureCodes.has(error.extensions.code!);
}
