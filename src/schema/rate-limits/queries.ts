import { builder } from '../builder.js';
import { requirePlatformAdmin } from '../../auth/platform-admin.js';
import { RateLimitConfigRef, RateLimitStatusRef } from './types.js';

builder.queryField('rateLimit', (t) =>
  t.field({
    type: RateLimitStatusRef,
    description:
      "The caller's quotas after this request, the same as `extensions.rateLimit`. It costs points like any other root field.",
    resolve: (_root, _args, context) =>
      context.rateLimit ?? { plan: 'free' as const, operation: '', cost: 0, degraded: false, windows: [] },
  }),
);

builder.queryField('rateLimitConfigs', (t) =>
  t.field({
    type: [RateLimitConfigRef],
    description: 'Every quota rule, by plan, operation and window. Platform admins only.',
    resolve: async (_root, _args, context) => {
      await requirePlatformAdmin(context);

      return context.services.prisma.rateLimitConfig.findMany({
        orderBy: [{ plan: 'asc' }, { operation: 'asc' }, { window: 'asc' }],
      });
    },
  }),
);
