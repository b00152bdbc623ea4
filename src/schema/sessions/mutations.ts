import { isUuid } from '../../auth/session-revocation.js';
import { notFoundError } from '../../errors.js';
import { builder } from '../builder.js';

builder.mutationField('logoutAll', (t) =>
  t.int({
    authScopes: { authenticated: true },
    description:
      "Revokes all the caller's sessions, or all but the current one with keepCurrent, and returns how many. Their access and refresh tokens stop working at once.",
    args: { keepCurrent: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, { keepCurrent }, context) => {
      if (!keepCurrent) context.cookies.clearRefreshToken();

      return context.services.sessions.logoutAll(context.identity!, keepCurrent ?? false, context.origin);
    },
  }),
);

builder.mutationField('revokeSession', (t) =>
  t.boolean({
    authScopes: { authenticated: true },
    description:
      "Revokes one of the caller's sessions. Another user's session id gets NOT_FOUND, the same as an id that does not exist.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      const { userId, sessionId } = context.identity!;
      // PostgreSQL matches a uuid in any letter case, but deny-list entries and the comparison
      // below use the lower-case id that access tokens carry.
      const sessionIdToRevoke = String(id).toLowerCase();
      if (!isUuid(sessionIdToRevoke)) throw notFoundError('Session');
      const revoked = await context.services.sessions.revokeSession(
        userId,
        sessionIdToRevoke,
        'revoked_by_user',
        context.origin,
        sessionId,
      );
      if (!revoked) throw notFoundError('Session');
      if (sessionIdToRevoke === sessionId) context.cookies.clearRefreshToken();

      return true;
    },
  }),
);

builder.mutationField('changePassword', (t) =>
  t.boolean({
    authScopes: { authenticated: true },
    description:
      'Changes the caller\'s password. A wrong current password is INVALID_CREDENTIALS; the new one must meet the same rules as at registration. By default every other session is revoked.',
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
      revokeOtherSessions: t.arg.boolean({ defaultValue: true }),
    },
    resolve: async (_root, args, context) => {
      await context.services.account.changePassword(
        context.identity!,
        {
          currentPassword: args.currentPassword,
          newPassword: args.newPassword,
          revokeOtherSessions: args.revokeOtherSessions ?? true,
        },
        context.origin,
      );

      return true;
    },
  }),
);
