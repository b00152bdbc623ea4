import { unauthenticatedError } from '../../errors.js';
import { builder } from '../builder.js';
import { SessionRef, UserRef } from './types.js';

builder.queryField('me', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user, or null without an access token.',
    resolve: (_root, _args, context) => {
      // A rejected token is an error, not an anonymous call, so clients know to refresh.
      if (context.rejectedToken) throw unauthenticatedError();
      if (!context.identity) return null;

      return context.services.prisma.user.findUnique({ where: { id: context.identity.userId } });
    },
  }),
);

builder.queryField('sessions', (t) =>
  t.field({
    type: [SessionRef],
    authScopes: { authenticated: true },
    description: "The caller's live sessions, newest first.",
    resolve: (_root, _args, context) => context.services.sessions.listSessions(context.identity!.userId),
  }),
);
