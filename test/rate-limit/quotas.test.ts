import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogoutDocument, MeDocument, RateLimitDocument } from '../generated/graphql.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRedis, type RunningServer } from '../support/processes.js';
import { registerUser } from '../support/users.js';
import {
  allowRegistrations,
  commandCount,
  countCommands,
  countDelta,
  gatehouseKeyTtls,
  limitedEnv,
  setRule,
} from './support.js';

type RateLimitExtension = {
  plan: string;
  operation: string | null;
  cost: number;
  degraded: boolean;
  windows: { window: string; bucket: string; limit: number; remaining: number; cost: number; resetAt: string }[];
};

const rateLimitOf = (body: { extensions?: Record<string, unknown> }) =>
  body.extensions?.rateLimit as RateLimitExtension;

const minuteOf = (status: RateLimitExtension, bucket = '*') =>
  status.windows.find((window) => window.window === 'minute' && window.bucket === bucket)!;

/**
 * Checks that naming an operation after a looser rule does not lift the `*` limit, while a
 * stricter operation-name rule still applies. Uses the enterprise plan, which no other test of
 * this file limits, so lowering its `*` rule leaves the other tests alone.
 */
async function checkOperationNameRules(gatehouse: TestGatehouse): Promise<void> {
  await setRule(gatehouse, { plan: 'enterprise', operation: '*', points: 2 });
  await setRule(gatehouse, { plan: 'enterprise', operation: 'Roomy', points: 1_000 });
  await setRule(gatehouse, { plan: 'enterprise', operation: 'Tight', points: 1 });
  const user = await registerUser(gatehouse);
  await gatehouse.app.services.prisma.user.update({ where: { id: user.user.id }, data: { plan: 'enterprise' } });

  const roomy = () => gatehouse.gql({ query: 'query Roomy { me { id } }', token: user.accessToken });
  const first = await roomy();
  expect(first.status).toBe(200);
  expect(minuteOf(rateLimitOf(first.body)).limit).toBe(2);
  expect(rateLimitOf(first.body).windows.map((window) => window.bucket)).toEqual(['*', '*', '*']);
  expect((await roomy()).status).toBe(200);
  const third = await roomy();
  expect(third.status).toBe(429);
  expect(third.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

  // A stricter operation-name rule adds its bucket to the field's, so it cannot reopen `*`.
  const tightQuery = 'query Tight { rateLimit { cost } }';
  const renamed = await gatehouse.gql({ query: tightQuery, token: user.accessToken });
  expect(renamed.status).toBe(429);
  expect(renamed.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

  const other = await registerUser(gatehouse);
  await gatehouse.app.services.prisma.user.update({ where: { id: other.user.id }, data: { plan: 'enterprise' } });
  const tight = await gatehouse.gql({ query: tightQuery, token: other.accessToken });
  expect(tight.status).toBe(200);
  expect(minuteOf(rateLimitOf(tight.body), 'Tight').limit).toBe(1);
  expect(minuteOf(rateLimitOf(tight.body), 'Tight').remaining).toBe(0);
  expect(minuteOf(rateLimitOf(tight.body)).remaining).toBe(1);
}

/** A document for each kind of rejection before execution, with its expected code. */
const rejectedDocuments = [
  { query: '{ me { ', code: 'GRAPHQL_PARSE_FAILED' },
  { query: '{ me { nope } }', code: 'GRAPHQL_VALIDATION_FAILED' },
  { query: `{ ${Array.from({ length: 40 }, (_, index) => `a${index}: me { id }`).join(' ')} }`, code: 'QUERY_TOO_COMPLEX' },
];

/**
 * Checks that invalid documents draw 1 point each from a fresh user's `*` buckets, until the
 * minute limit of the free plan (60) is used up and the next one is RATE_LIMITED.
 */
async function checkInvalidDocumentFlood(gatehouse: TestGatehouse): Promise<void> {
  const user = await registerUser(gatehouse);
  for (let sent = 1; sent <= 60; sent++) {
    const response = await gatehouse.gql({ query: '{ me { nope } }', token: user.accessToken });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(minuteOf(rateLimitOf(response.body)).remaining).toBe(60 - sent);
  }
  const limited = await gatehouse.gql({ query: '{ me { nope } }', token: user.accessToken });
  expect(limited.status).toBe(429);
  expect(limited.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  expect(limited.headers.get('retry-after')).not.toBeNull();
  expect(rateLimitOf(limited.body).operation).toBeNull();
  const valid = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
  expect(valid.status).toBe(429);
  expect(valid.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
}

describe('quotas on redis', () => {
  let redis: RunningServer;
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    redis = await startRedis();
    gatehouse = await startGatehouse({ env: { ...limitedEnv, REDIS_URL: redis.url } });
    await allowRegistrations(gatehouse);
  });
  afterAll(async () => {
    await gatehouse?.close();
    await redis?.stop();
  });

  it('reports every window in extensions, query and headers', async () => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.op(RateLimitDocument, {}, { token: user.accessToken });
    expect(response.status).toBe(200);
    const status = rateLimitOf(response.body);
    expect(status.plan).toBe('free');
    expect(status.operation).toBe('RateLimit');
    expect(status.cost).toBe(1);
    expect(status.degraded).toBe(false);
    expect(status.windows.map((window) => window.window)).toEqual(['minute', 'hour', 'day']);
    expect(status.windows.map((window) => window.limit)).toEqual([60, 1000, 10000]);
    expect(status.windows.map((window) => window.remaining)).toEqual([59, 999, 9999]);
    for (const window of status.windows) expect(new Date(window.resetAt).toISOString()).toBe(window.resetAt);

    const queried = response.body.data!.rateLimit;
    expect(queried.plan).toBe('FREE');
    expect(queried.degraded).toBe(false);
    expect(queried.windows.map((window) => window.remaining)).toEqual([59, 999, 9999]);
    expect(queried.windows.map((window) => window.resetAt)).toEqual(status.windows.map((window) => window.resetAt));

    expect(response.headers.get('ratelimit-limit')).toBe('60');
    expect(response.headers.get('ratelimit-remaining')).toBe('59');
    expect(Number(response.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    expect(Number(response.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60);
  });

  it('uses the limits of the caller plan', async () => {
    const user = await registerUser(gatehouse);
    await gatehouse.app.services.prisma.user.update({ where: { id: user.user.id }, data: { plan: 'pro' } });
    const response = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    const status = rateLimitOf(response.body);
    expect(status.plan).toBe('pro');
    expect(minuteOf(status).limit).toBe(600);
  });

  it('charges every aliased root field', async () => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.gql({
      query: '{ a: me { id } b: me { id } c: rateLimit { cost } ...Root } fragment Root on Query { d: me { id } }',
      token: user.accessToken,
    });
    const status = rateLimitOf(response.body);
    expect(status.cost).toBe(4);
    expect(minuteOf(status).remaining).toBe(56);
    expect(response.body.data?.c.cost).toBe(4);
  });

  it('charges operations rejected before execution', async () => {
    const user = await registerUser(gatehouse);
    await gatehouse.app.services.prisma.user.update({ where: { id: user.user.id }, data: { plan: 'pro' } });
    let expectedRemaining = 600;
    for (const { query, code } of rejectedDocuments) {
      const response = await gatehouse.gql({ query, token: user.accessToken });
      expect(response.body.errors?.[0]?.extensions?.code).toBe(code);
      expectedRemaining -= 1;
      const status = rateLimitOf(response.body);
      expect(status.plan).toBe('pro');
      expect(status.operation).toBeNull();
      expect(status.cost).toBe(1);
      expect(status.windows.map((window) => window.bucket)).toEqual(['*', '*', '*']);
      expect(status.windows.map((window) => window.cost)).toEqual([1, 1, 1]);
      expect(minuteOf(status).remaining).toBe(expectedRemaining);
      expect(response.headers.get('ratelimit-remaining')).toBe(String(expectedRemaining));
    }
    const valid = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    expect(minuteOf(rateLimitOf(valid.body)).remaining).toBe(expectedRemaining - 1);
  });

  it('charges anonymous rejections by address', async () => {
    const first = await gatehouse.gql({ query: '{ me { ' });
    const second = await gatehouse.gql({ query: '{ me { ' });
    expect(rateLimitOf(first.body).plan).toBe('free');
    expect(minuteOf(rateLimitOf(second.body)).remaining).toBe(minuteOf(rateLimitOf(first.body)).remaining - 1);
    const keys = [...(await gatehouseKeyTtls(redis.url)).keys()];
    expect(keys).toContain('gatehouse:rl:{ip:127.0.0.1}:free:*:minute');
  });

  it('charges a revoked token by address', async () => {
    const user = await registerUser(gatehouse);
    const before = await gatehouse.gql({ query: '{ me { ', token: user.accessToken });
    expect(minuteOf(rateLimitOf(before.body)).remaining).toBe(59);
    const claims = await gatehouse.app.services.accessTokens.verify(user.accessToken);
    await gatehouse.app.services.sessions.logoutAll(claims, false, { ip: null, userAgent: null });
    const anonymous = await gatehouse.gql({ query: '{ me { ' });
    const revoked = await gatehouse.gql({ query: '{ me { ', token: user.accessToken });
    expect(revoked.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(minuteOf(rateLimitOf(revoked.body)).remaining).toBe(minuteOf(rateLimitOf(anonymous.body)).remaining - 1);
    const client = new Redis(redis.url);
    try {
      expect(await client.get(`gatehouse:rl:{user:${user.user.id}}:free:*:minute`)).toBe('1');
    } finally {
      client.disconnect();
    }
  });

  it('ends a flood of invalid documents in RATE_LIMITED', async () => {
    await checkInvalidDocumentFlood(gatehouse);
  });

  it('charges an operation that skips every root field', async () => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.gql({ query: '{ me @skip(if: true) { id } }', token: user.accessToken });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(minuteOf(rateLimitOf(response.body)).remaining).toBe(59);
    expect(response.headers.get('ratelimit-remaining')).toBe('59');
  });

  it('charges the invalid operation of a batch', async () => {
    const user = await registerUser(gatehouse);
    const body = JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { nope } }' }]);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` };
    const response = await fetch(`${gatehouse.url}/graphql`, { method: 'POST', headers, body });
    const results = (await response.json()) as { errors?: { extensions?: { code?: string } }[]; extensions: Record<string, unknown> }[];
    expect(results).toHaveLength(2);
    expect(results[0]?.errors).toBeUndefined();
    expect(results[1]?.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const rejected = rateLimitOf(results[1]!);
    expect(rejected.cost).toBe(1);
    expect(rejected.operation).toBeNull();
    expect(minuteOf(rejected).remaining).toBe(58);
    expect(response.headers.get('ratelimit-remaining')).toBe('58');
    const after = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    expect(minuteOf(rateLimitOf(after.body)).remaining).toBe(57);
  });

  it('rejects an operation over its limit before it runs', async () => {
    await setRule(gatehouse, { operation: 'logout', points: 0 });
    const user = await registerUser(gatehouse);
    const response = await gatehouse.op(LogoutDocument, {}, { token: user.accessToken });
    expect(response.status).toBe(429);
    expect(response.body.data ?? null).toBeNull();
    const error = response.body.errors?.[0];
    expect(error?.extensions?.code).toBe('RATE_LIMITED');
    expect(error?.extensions?.retryAfter).toBe(60);
    expect(response.headers.get('retry-after')).toBe('60');
    const status = rateLimitOf(response.body);
    expect(minuteOf(status, 'logout').remaining).toBe(0);

    // The session survived: logout never ran.
    const me = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    expect(me.body.data?.me?.id).toBe(user.user.id);

    const metrics = await (await fetch(`${gatehouse.url}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_rate_limit_rejections_total\{limiter="quota"\} [1-9]/);
  });

  it('audits a violation once per bucket and window', async () => {
    await setRule(gatehouse, { operation: 'logout', points: 0 });
    const user = await registerUser(gatehouse);
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await gatehouse.op(LogoutDocument, {}, { token: user.accessToken });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    }
    const events = await gatehouse.app.services.prisma.auditLog.findMany({
      where: { action: 'rate_limit.exceeded', actorId: user.user.id },
    });
    expect(events).toHaveLength(1);
    expect(events[0]?.metadata).toMatchObject({ plan: 'free', operation: 'Logout', bucket: 'logout', window: 'minute' });
  });

  it('lets exactly one of 30 parallel requests take the last point', async () => {
    await setRule(gatehouse, { operation: 'rateLimit', points: 3 });
    const user = await registerUser(gatehouse);
    for (let used = 0; used < 2; used++) {
      expect((await gatehouse.op(RateLimitDocument, {}, { token: user.accessToken })).status).toBe(200);
    }
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => gatehouse.op(RateLimitDocument, {}, { token: user.accessToken })),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 429)).toHaveLength(29);
  });

  it('checks all windows in one redis round trip', async () => {
    const client = new Redis(redis.url);
    let sent: ReturnType<typeof countCommands> | undefined;
    try {
      // The first call loads the script, which costs an extra EVAL once per Redis server.
      await gatehouse.gql({ query: '{ me { id } }' });
      const before = await commandCount(client);
      sent = countCommands(gatehouse.app.redis!);
      const response = await gatehouse.gql({ query: '{ a: me { id } b: me { id } }' });
      sent!.restore();
      const after = await commandCount(client);
      expect(response.status).toBe(200);
      expect(rateLimitOf(response.body).windows).toHaveLength(3);
      expect(sent!.names).toEqual(['evalsha']);
      // The server ran one script call. GET, INCRBY and PTTL are commands the script runs.
      const delta = countDelta(before, after);
      expect(delta.get('evalsha')).toBe(1);
      expect([...delta.keys()].filter((name) => !['evalsha', 'get', 'incrby', 'pttl', 'pexpire'].includes(name))).toEqual([]);
    } finally {
      sent?.restore();
      client.disconnect();
    }
  });

  it('counts each operation of a batch', async () => {
    const user = await registerUser(gatehouse);
    const body = JSON.stringify(Array.from({ length: 3 }, () => ({ query: '{ me { id } }' })));
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` };
    const response = await fetch(`${gatehouse.url}/graphql`, { method: 'POST', headers, body });
    const results = (await response.json()) as { extensions: Record<string, unknown> }[];
    expect(results).toHaveLength(3);
    // The operations of a batch run concurrently, so the order of consumption varies.
    const remaining = results.map((result) => minuteOf(rateLimitOf(result)).remaining);
    expect(remaining.sort((a, b) => b - a)).toEqual([59, 58, 57]);
    expect(response.headers.get('ratelimit-remaining')).toBe('57');

    const tooMany = JSON.stringify(Array.from({ length: 11 }, () => ({ query: '{ me { id } }' })));
    const rejected = await fetch(`${gatehouse.url}/graphql`, { method: 'POST', headers, body: tooMany });
    const rejectedBody = (await rejected.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(rejected.status).toBe(413);
    expect(rejectedBody.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    // The rejected batch never executed, so it drew 1 point like any rejected operation.
    const after = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    expect(minuteOf(rateLimitOf(after.body)).remaining).toBe(55);
  });

  it('keys anonymous callers by socket address, not X-Forwarded-For', async () => {
    const first = await gatehouse.gql({ query: '{ me { id } }', headers: { 'x-forwarded-for': '203.0.113.7' } });
    const second = await gatehouse.gql({ query: '{ me { id } }', headers: { 'x-forwarded-for': '203.0.113.8' } });
    const remainingFirst = minuteOf(rateLimitOf(first.body)).remaining;
    expect(minuteOf(rateLimitOf(second.body)).remaining).toBe(remainingFirst - 1);
    const keys = [...(await gatehouseKeyTtls(redis.url)).keys()];
    expect(keys).toContain('gatehouse:rl:{ip:127.0.0.1}:free:*:minute');
    expect(keys.some((key) => key.includes('203.0.113'))).toBe(false);
  });

  it('ignores looser operation-name rules', async () => {
    await checkOperationNameRules(gatehouse);
  });

  it('gives every key a TTL', async () => {
    const ttls = await gatehouseKeyTtls(redis.url);
    expect(ttls.size).toBeGreaterThan(5);
    for (const [key, ttl] of ttls) expect({ key, positive: ttl > 0 }).toEqual({ key, positive: true });
  });
});

describe('quotas without redis on pglite', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'pglite', redis: false, env: limitedEnv });
    await allowRegistrations(gatehouse);
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('seeds the default rules', async () => {
    const count = await gatehouse.app.services.prisma.rateLimitConfig.count({ where: { operation: '*' } });
    expect(count).toBe(9);
  });

  it('ignores looser operation-name rules', async () => {
    await checkOperationNameRules(gatehouse);
  });

  it('ends a flood of invalid documents in RATE_LIMITED', async () => {
    await checkInvalidDocumentFlood(gatehouse);
  });

  it('enforces limits in memory, not degraded', async () => {
    await setRule(gatehouse, { operation: 'rateLimit', points: 2 });
    const user = await registerUser(gatehouse);
    const first = await gatehouse.op(RateLimitDocument, {}, { token: user.accessToken });
    expect(rateLimitOf(first.body).degraded).toBe(false);
    expect(minuteOf(rateLimitOf(first.body), 'rateLimit').remaining).toBe(1);
    await gatehouse.op(RateLimitDocument, {}, { token: user.accessToken });
    const third = await gatehouse.op(RateLimitDocument, {}, { token: user.accessToken });
    expect(third.status).toBe(429);
    expect(third.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });
});

describe('rejected operations from exempt addresses', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    // The test defaults exempt 127.0.0.1, the address every test request comes from.
    gatehouse = await startGatehouse({ backend: 'pglite', redis: false });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('charges nothing', async () => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.gql({ query: '{ me { nope } }', token: user.accessToken });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(rateLimitOf(response.body)).toEqual({ plan: null, operation: null, cost: 0, degraded: false, windows: [] });
    expect(response.headers.get('ratelimit-remaining')).toBeNull();
  });
});
