import type { RateLimitConfig } from '../../generated/prisma/client.js';
import type { RateLimitStatus, WindowStatus } from '../../rate-limit/windows.js';
import { PlanEnum } from '../auth/types.js';
import { builder } from '../builder.js';

export const RateLimitWindowEnum = builder.enumType('RateLimitWindow', {
  description: 'A fixed quota window. It starts with the first request that draws from a bucket.',
  values: {
    MINUTE: { value: 'minute' },
    HOUR: { value: 'hour' },
    DAY: { value: 'day' },
  } as const,
});

export const RateLimitFailModeEnum = builder.enumType('RateLimitFailMode', {
  description: 'What a limit does while Redis is unreachable.',
  values: {
    OPEN: { value: 'open', description: 'Requests pass; each instance only counts them.' },
    CLOSED: { value: 'closed', description: 'Each instance keeps enforcing the limit on its own.' },
  } as const,
});

const RateLimitWindowStatusRef = builder.objectRef<WindowStatus>('RateLimitWindowStatus').implement({
  description: 'One quota bucket in one window.',
  fields: (t) => ({
    window: t.field({ type: RateLimitWindowEnum, resolve: (status) => status.window }),
    bucket: t.exposeString('bucket', { description: 'The config pattern of the bucket, such as login or *.' }),
    limit: t.exposeInt('limit', { description: 'Points per window.' }),
    remaining: t.exposeInt('remaining', { description: 'Points left after this request.' }),
    cost: t.exposeInt('cost', { description: 'Points this request drew from the bucket.' }),
    resetAt: t.exposeString('resetAt', { description: 'When the window resets, as ISO 8601 in UTC.' }),
    failMode: t.field({ type: RateLimitFailModeEnum, resolve: (status) => status.failMode }),
  }),
});

export const RateLimitStatusRef = builder.objectRef<RateLimitStatus>('RateLimitStatus').implement({
  description: 'The quotas the current request drew from; the same object as `extensions.rateLimit`.',
  fields: (t) => ({
    plan: t.field({ type: PlanEnum, resolve: (status) => status.plan }),
    operation: t.exposeString('operation', { description: 'Operation name, or the root fields joined by ",".' }),
    cost: t.exposeInt('cost', { description: 'Points drawn, in the window where the request cost most.' }),
    degraded: t.exposeBoolean('degraded', { description: 'True while limits are counted per instance.' }),
    windows: t.field({ type: [RateLimitWindowStatusRef], resolve: (status) => status.windows }),
  }),
});

export const RateLimitConfigRef = builder.objectRef<RateLimitConfig>('RateLimitConfig').implement({
  description: 'One quota rule of the rate_limit_configs table.',
  fields: (t) => ({
    id: t.exposeID('id'),
    plan: t.field({ type: PlanEnum, resolve: (config) => config.plan }),
    operation: t.exposeString('operation', {
      description: 'Root field or operation name, a glob with * and ?, or * for all other fields.',
    }),
    window: t.field({ type: RateLimitWindowEnum, resolve: (config) => config.window }),
    points: t.exposeInt('points'),
    cost: t.exposeInt('cost', { description: 'Points each matching root field draws.' }),
    failMode: t.field({ type: RateLimitFailModeEnum, resolve: (config) => config.failMode }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});
