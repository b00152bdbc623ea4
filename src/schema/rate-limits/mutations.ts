import { auditActions, auditRow } from '../../audit/audit-log.js';
import { badUserInputError } from '../../errors.js';
import { operationPatternShape } from '../../rate-limit/patterns.js';
import { PlanEnum } from '../auth/types.js';
import { builder } from '../builder.js';
import { requirePlatformAdmin } from '../../auth/platform-admin.js';
import { RateLimitConfigRef, RateLimitFailModeEnum, RateLimitWindowEnum } from './types.js';

const maxPoints = 1_000_000_000;

const SetRateLimitConfigInput = builder.inputType('SetRateLimitConfigInput', {
  fields: (t) => ({
    plan: t.field({ type: PlanEnum, required: true }),
    operation: t.string({
      required: true,
      description: 'Root field or operation name, a glob with * and ?, or * for all other fields.',
    }),
    window: t.field({ type: RateLimitWindowEnum, required: true }),
    points: t.int({ required: true, description: 'Points per window; 0 blocks the operation.' }),
    cost: t.int({ description: 'Points each matching root field draws. @default 1' }),
    failMode: t.field({ type: RateLimitFailModeEnum, description: 'While Redis is down. @default OPEN' }),
  }),
});

function checkInput(input: { operation: string; points: number; cost?: number | null }): void {
  if (!operationPatternShape.test(input.operation)) {
    throw badUserInputError('operation', 'Operation must be a GraphQL name with optional * and ? globs, up to 100 characters.');
  }
  if (input.points < 0 || input.points > maxPoints) {
    throw badUserInputError('points', `Points must be between 0 and ${maxPoints}.`);
  }
  if (input.cost != null && (input.cost < 0 || input.cost > maxPoints)) {
    throw badUserInputError('cost', `Cost must be between 0 and ${maxPoints}.`);
  }
}

builder.mutationField('setRateLimitConfig', (t) =>
  t.field({
    type: RateLimitConfigRef,
    description:
      'Creates or replaces the quota of one plan, operation pattern and window. Every instance applies it within 5 seconds. Platform admins only.',
    args: { input: t.arg({ type: SetRateLimitConfigInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const adminId = await requirePlatformAdmin(context);
      checkInput(input);
      const { prisma } = context.services;
      const key = { plan: input.plan, operation: input.operation, window: input.window };
      const values = { points: input.points, cost: input.cost ?? 1, failMode: input.failMode ?? 'open' };
      const [config] = await prisma.$transaction([
        prisma.rateLimitConfig.upsert({
          where: { plan_operation_window: key },
          create: { ...key, ...values },
          update: values,
        }),
        prisma.auditLog.create({
          data: auditRow(auditActions.rateLimitConfigChanged, adminId, null, context.identity?.sessionId ?? null, context.origin, {
            ...key,
            ...values,
          }),
        }),
      ]);
      context.services.rateLimits.configs.invalidate();

      return config;
    },
  }),
);
