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
 * so the browser stops retrying a dead token.
 */
export async function refreshWithCookie(context: GatehouseContext, token: string | null | undefined): Promise<IssuedTokens> {
  const presented = token ?? context.cookies.refreshToken;
  const fromCookie = context.cookies.refreshToken !== undefined && presented === context.cookies.refreshToken;
  try {
    if (!presented) throw invalidRefreshTokenError();
    const tokens = await context.services.sessions.refresh(presented, context.origin);
    context.cookies.setRefreshToken(tokens.refreshToken, tokens.refreshTokenExpiresAt);

    return tokens;
  } catch (error) {
    if (fromCookie && isFinalRefreshFailure(error)) context.cookies.clearRefreshToken();
    throw error;
  }
}

function isFinalRefreshFailure(error: unknown): boolean {
  return isGatehouseError(error) && finalRefreshFailureCodes.has(error.extensions.code!);
}
