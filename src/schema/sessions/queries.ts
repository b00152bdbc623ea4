import { builder } from '../builder.js';
import { IdentityRef } from './types.js';

builder.queryField('identity', (t) =>
  t.field({
    type: IdentityRef,
    authScopes: { authenticated: true },
    description:
      'The user and session of the access token. Answered from the token and the revocation deny-list, without a database query, so a resource server can check a token cheaply.',
    resolve: (_root, _args, context) => context.identity!,
  }),
);
