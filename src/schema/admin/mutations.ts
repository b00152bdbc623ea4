import { builder } from '../builder.js';
import { UserRef } from '../auth/types.js';

builder.mutationField('setUserDisabled', (t) =>
  t.field({
    type: UserRef,
    authScopes: { platformAdmin: true },
    description:
      'Platform admins only. Disables or enables a user; disabling revokes every session of that user at once. An unknown user is NOT_FOUND; disabling oneself is BAD_USER_INPUT.',
    args: {
      userId: t.arg.id({ required: true }),
      disabled: t.arg.boolean({ required: true }),
    },
    resolve: (_root, args, context) =>
      context.services.account.setUserDisabled(context.identity!, String(args.userId), args.disabled, context.origin),
  }),
);

builder.mutationField('setUserPassword', (t) =>
  t.boolean({
    authScopes: { platformAdmin: true },
    description:
      'Platform admins only. Sets a user\'s password and revokes every session of that user. The password must meet the registration rules. An unknown user is NOT_FOUND.',
    args: {
      userId: t.arg.id({ required: true }),
      newPassword: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, context) => {
      await context.services.account.setUserPassword(
        context.identity!,
        String(args.userId),
        args.newPassword,
        context.origin,
      );

      return true;
    },
  }),
);
