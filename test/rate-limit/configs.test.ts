import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitConfigsDocument, RateLimitDocument, SetRateLimitConfigDocument } from '../generated/graphql.js';
import { createTestDatabase, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRedis, type RunningServer } from '../support/processes.js';
import { registerUser } from '../support/users.js';
import { allowRegistrations, limitedEnv } from './support.js';

type Status = { windows: { bucket: string; window: string; limit: number }[] };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rate limit configs', () => {
  let redis: RunningServer;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let first: TestGatehouse;
  let second: TestGatehouse;
  let adminToken: string;
  let userToken: string;

  beforeAll(async () => {
    redis = await startRedis();
    database = await createTestDatabase();
    const env = { ...limitedEnv, REDIS_URL: redis.url };
    first = await startGatehouse({ env, databaseUrl: database.url });
    second = await startGatehouse({ env, databaseUrl: database.url });
    await allowRegistrations(first);
    const admin = await registerUser(first);
    await first.app.services.prisma.user.update({ where: { id: admin.user.id }, data: { isPlatformAdmin: true } });
    adminToken = admin.accessToken;
    userToken = (await registerUser(first)).accessToken;
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.drop();
    await redis?.stop();
  });

  it('lists the seeded defaults to platform admins', async () => {
    const response = await first.op(RateLimitConfigsDocument, {}, { token: adminToken });
    const configs = response.body.data?.rateLimitConfigs ?? [];
    const freeDefault = configs.filter((config) => config.plan === 'FREE' && config.operation === '*');
    expect(freeDefault.map((config) => [config.window, config.points, config.failMode])).toEqual([
      ['MINUTE', 60, 'OPEN'],
      ['HOUR', 1000, 'OPEN'],
      ['DAY', 10000, 'OPEN'],
    ]);
    const login = configs.find((config) => config.plan === 'FREE' && config.operation === 'login' && config.window === 'MINUTE');
    expect(login?.failMode).toBe('CLOSED');
  });

  it('rejects callers who are not platform admins', async () => {
    const anonymous = await first.op(RateLimitConfigsDocument, {});
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const user = await first.op(RateLimitConfigsDocument, {}, { token: userToken });
    expect(user.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const input = { plan: 'FREE' as const, operation: '*', window: 'MINUTE' as const, points: 1 };
    const change = await first.op(SetRateLimitConfigDocument, { input }, { token: userToken });
    expect(change.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('rejects an invalid operation pattern', async () => {
    const input = { plan: 'FREE' as const, operation: 'a:b{c}', window: 'MINUTE' as const, points: 1 };
    const response = await first.op(SetRateLimitConfigDocument, { input }, { token: adminToken });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('operation');
  });

  it('applies a change on another instance within seconds', async () => {
    const before = await second.op(RateLimitDocument, {}, { token: userToken });
    expect((before.body.extensions?.rateLimit as Status).windows.some((window) => window.bucket === 'rate*')).toBe(false);

    const input = { plan: 'FREE' as const, operation: 'rate*', window: 'HOUR' as const, points: 77, failMode: 'CLOSED' as const };
    const change = await first.op(SetRateLimitConfigDocument, { input }, { token: adminToken });
    expect(change.body.data?.setRateLimitConfig).toMatchObject({ operation: 'rate*', points: 77, cost: 1, failMode: 'CLOSED' });
    const audit = await first.app.services.prisma.auditLog.count({ where: { action: 'rate_limit.config_changed' } });
    expect(audit).toBe(1);

    // The instance that wrote the change uses it at once.
    const local = await first.op(RateLimitDocument, {}, { token: userToken });
    const localHour = (local.body.extensions?.rateLimit as Status).windows.find((window) => window.window === 'hour');
    expect(localHour).toMatchObject({ bucket: 'rate*', limit: 77 });

    let limit: number | undefined;
    for (let attempt = 0; attempt < 40 && limit !== 77; attempt++) {
      await sleep(250);
      const response = await second.op(RateLimitDocument, {}, { token: userToken });
      const hour = (response.body.extensions?.rateLimit as Status).windows.find((window) => window.window === 'hour');
      limit = hour?.bucket === 'rate*' ? hour.limit : undefined;
    }
    expect(limit).toBe(77);
  });
});
