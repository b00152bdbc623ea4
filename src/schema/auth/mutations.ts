import type { IssuedTokens } from '../../auth/auth-service.js';
import type { GatehouseContext } from '../../context.js';
import { unauthenticatedError } from '../../errors.js';
import { builder } from '../builder.js';
import { refreshWithCookie } from './refresh-cookie.js';
import { AuthPayloadRef } from './types.js';

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: '10 characters to 72 bytes in UTF-8, no NUL, no unpaired UTF-16 surrogate.' }),
    displayName: t.string({ required: true, description: 'Up to 100 characters.' }),
    deviceName: t.string({ description: 'A name for this device, shown in the session list.' }),
  }),
});

const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    deviceName: t.string({ description: 'A name for this device, shown in the session list.' }),
  }),
});

/** Sets the refresh cookie and returns the payload unchanged. */
function withCookie(context: GatehouseContext, tokens: IssuedTokens): IssuedTokens {
  context.cookies.setRefreshToken(tokens.refreshToken, tokens.refreshTokenExpiresAt);

  return tokens;
}

/**
 * Ends the session of the refresh cookie that a new sign-in replaces. The new cookie overwrites
 * the browser's copy of that session's refresh token, so the session would otherwise stay in the
 * session list until it expires. Called only after the sign-in succeeded, so a failed login never
 * ends the signed-in session. A failure is logged and leaves the old session live.
 */
async function endReplacedSession(context: GatehouseContext): Promise<void> {
  const token = context.cookies.refreshToken;
  if (!token) return;
  try {
    const replaced = await context.services.sessions.sessionOfRefreshToken(token);
    if (!replaced) return;
    await context.services.sessions.revokeSession(replaced.userId, replaced.sessionId, 'replaced_by_sign_in', context.origin, null);
  } catch (error) {
    context.logger.error({ err: error }, 'ending the session of a replaced refresh cookie failed');
  }
}

/** Ends the cookie's old session, then sets the cookie to the new session's token. */
async function signedIn(context: GatehouseContext, tokens: IssuedTokens): Promise<IssuedTokens> {
  await endReplacedSession(context);

  return withCookie(context, tokens);
}

builder.mutationField('register', (t) =>
  t.field({
    type: AuthPayloadRef,
    description:
      "Creates an account and signs it in on this device. A refresh cookie's live session is revoked, because the new cookie replaces its token.",
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: async (_root, { input }, context) => signedIn(context, await context.services.auth.register(input, context.origin)),
  }),
);

builder.mutationField('login', (t) =>
  t.field({
    type: AuthPayloadRef,
    description:
      "Starts a session. Wrong passwords and unknown emails get the same INVALID_CREDENTIALS error. After a successful login, a refresh cookie's live session is revoked, because the new cookie replaces its token.",
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: async (_root, { input }, context) =>
      signedIn(context, await context.services.auth.login(input, context.origin, context.request.signal)),
  }),
);

builder.mutationField('refreshToken', (t) =>
  t.field({
    type: AuthPayloadRef,
    description:
      'Exchanges a refresh token, from the argument or else the cookie, for new tokens. The old token stops working. The cookie is set to the new token, unless the request carries a cookie with another token than the argument: then the cookie is left alone. When the token from the cookie fails for good (INVALID_REFRESH_TOKEN, REFRESH_TOKEN_REUSED, SESSION_EXPIRED), the cookie is cleared.',
    args: { token: t.arg.string() },
    resolve: (_root, { token }, context) => refreshWithCookie(context, token),
  }),
);

builder.mutationField('logout', (t) =>
  t.boolean({
    description:
      "Revokes the caller's session: its access and refresh tokens stop working at once, and the cookie is cleared. The session named by the refresh cookie is revoked too, also when the access token is missing or expired.",
    resolve: async (_root, _args, context) => {
      const targets = await logoutTargets(context);
      if (targets.length === 0) {
        context.cookies.clearRefreshToken();
        throw unauthenticatedError();
      }
      for (const target of targets) {
        await context.services.sessions.revokeSession(
          target.userId,
          target.sessionId,
          'logout',
          context.origin,
          target.sessionId,
        );
      }
      // Cleared only now: when a revocation fails, for example while the database is down, the
      // browser keeps the cookie, so a second logout can still end the session.
      context.cookies.clearRefreshToken();

      return true;
    },
  }),
);

/**
 * Returns the session of the access token and the session of the refresh cookie, once each.
 * The cookie proves possession of its refresh token, so its session ends even when the access
 * token was rejected or belongs to another session. Otherwise the cleared cookie's token would
 * stay usable for its whole lifetime.
 */
async function logoutTargets(context: GatehouseContext): Promise<{ userId: string; sessionId: string }[]> {
  const targets = context.identity ? [context.identity] : [];
  const cookieToken = context.cookies.refreshToken;
  const cookieSession = cookieToken ? await context.services.sessions.sessionOfRefreshToken(cookieToken) : null;
  if (cookieSession && cookieSession.sessionId !== context.identity?.sessionId) targets.push(cookieSession);

  return targets;
}
