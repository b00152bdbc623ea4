import { Redis } from 'ioredis';
import type { Plan, RateLimitFailMode, RateLimitWindow } from '../../src/generated/prisma/client.js';
import type { RedisClient } from '../../src/state/redis.js';
import type { TestGatehouse } from '../support/gatehouse.js';

/**
 * The tests send from 127.0.0.1, which the test defaults exempt from rate limits. This list
 * replaces that default with an address no test uses, so the limits apply.
 */
export const limitedEnv = { RATE_LIMIT_EXEMPT_IPS: '192.0.2.1', REGISTER_MAX_PER_IP: '100000' };

/** Lifts the seeded `register` quota, so a test can register as many users as it needs. */
export async function allowRegistrations(gatehouse: TestGatehouse): Promise<void> {
  for (const window of ['minute', 'hour', 'day'] as const) {
    await setRule(gatehouse, { operation: 'register', window, points: 100_000, failMode: 'closed' });
  }
}

/** Counts the commands one ioredis client sends; each call of `sendCommand` is one round trip. */
export function countCommands(client: RedisClient): { names: string[]; restore(): void } {
  const redis = client as Redis;
  const names: string[] = [];
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], stream?: unknown) => {
    names.push(command.name);
    return original(command, stream as never);
  }) as Redis['sendCommand'];

  return { names, restore: () => void (redis.sendCommand = original) };
}

export interface RuleInput {
  plan?: Plan;
  operation: string;
  window?: RateLimitWindow;
  points: number;
  cost?: number;
  failMode?: RateLimitFailMode;
}

/** Writes one quota rule straight to the table and makes the instance reread it at once. */
export async function setRule(gatehouse: TestGatehouse, rule: RuleInput): Promise<void> {
  const key = { plan: rule.plan ?? 'free', operation: rule.operation, window: rule.window ?? 'minute' };
  const values = { points: rule.points, cost: rule.cost ?? 1, failMode: rule.failMode ?? 'open' };
  await gatehouse.app.services.prisma.rateLimitConfig.upsert({
    where: { plan_operation_window: key },
    create: { ...key, ...values },
    update: values,
  });
  gatehouse.app.services.rateLimits.configs.invalidate();
}

/** Lists every quota and login-guard key in a Redis server with its remaining TTL in ms. */
export async function gatehouseKeyTtls(url: string): Promise<Map<string, number>> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await redis.connect();
  try {
    const keys = await redis.keys('gatehouse:*');
    const ttls = new Map<string, number>();
    for (const key of keys) ttls.set(key, await redis.pttl(key));

    return ttls;
  } finally {
    redis.disconnect();
  }
}

/** Total commands a Redis server has run, from INFO commandstats, leaving out INFO itself. */
export async function commandCount(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') counts.set(match[1]!, Number(match[2]));
  }

  return counts;
}

export function countDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [command, calls] of after) {
    const change = calls - (before.get(command) ?? 0);
    if (change > 0) delta.set(command, change);
  }

  return delta;
}
