import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, RateLimitDocument } from '../generated/graphql.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { freePort, startRedis, type RunningServer } from '../support/processes.js';
import { registerUser } from '../support/users.js';
import { allowRegistrations, limitedEnv, setRule } from './support.js';

type Status = { degraded: boolean; windows: { bucket: string; window: string; limit: number; remaining: number; resetAt: string }[] };

const statusOf = (body: { extensions?: Record<string, unknown> }) => body.extensions?.rateLimit as Status;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('redis outage', () => {
  let port: number;
  let redis: RunningServer;
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    gatehouse = await startGatehouse({
      env: { ...limitedEnv, REDIS_URL: redis.url, LOGIN_MAX_FAILURES_PER_EMAIL: '3' },
    });
    await allowRegistrations(gatehouse);
    await setRule(gatehouse, { operation: 'rateLimit', points: 1000, failMode: 'open' });
    await setRule(gatehouse, { operation: 'me', points: 2, failMode: 'closed' });
  });
  afterAll(async () => {
    await gatehouse?.close();
    await redis?.stop();
  });

  it('answers from memory while redis is down and returns to it', async () => {
    const user = await registerUser(gatehouse);
    const token = user.accessToken;
    const before = await gatehouse.op(RateLimitDocument, {}, { token });
    expect(statusOf(before.body).degraded).toBe(false);

    await redis.stop();
    // Open limits pass and report their in-memory count; nothing is undefined.
    for (let request = 0; request < 5; request++) {
      const response = await gatehouse.op(RateLimitDocument, {}, { token });
      expect(response.status).toBe(200);
      const status = statusOf(response.body);
      expect(status.degraded).toBe(true);
      expect(response.body.data?.rateLimit.degraded).toBe(true);
      for (const window of status.windows) {
        expect(Number.isInteger(window.limit)).toBe(true);
        expect(Number.isInteger(window.remaining)).toBe(true);
        expect(Number.isNaN(Date.parse(window.resetAt))).toBe(false);
      }
      expect(JSON.stringify(response.body)).not.toContain('undefined');
    }
    // Closed limits stay enforced per instance.
    const closed = await Promise.all([0, 1, 2].map(() => gatehouse.gql({ query: '{ me { id } }', token })));
    expect(closed.map((response) => response.status).sort()).toEqual([200, 200, 429]);

    // Login protection stays closed: the fourth guess is rejected from memory.
    const input = { email: user.email, password: 'wrong password 123' };
    const guesses = [];
    for (let attempt = 0; attempt < 4; attempt++) guesses.push(await gatehouse.op(LoginDocument, { input }));
    expect(guesses.map((guess) => guess.body.errors?.[0]?.extensions?.code)).toEqual([
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'RATE_LIMITED',
    ]);

    redis = await startRedis(port);
    let degraded = true;
    for (let attempt = 0; attempt < 60 && degraded; attempt++) {
      await sleep(250);
      const response = await gatehouse.op(RateLimitDocument, {}, { token });
      degraded = statusOf(response.body).degraded;
    }
    expect(degraded).toBe(false);

    const messages = gatehouse.logs.map((line) => line.msg);
    expect(messages.filter((message) => message === 'rate limits degraded: redis unreachable, counting per instance in memory')).toHaveLength(1);
    expect(messages.filter((message) => message === 'rate limits restored: counting in redis again')).toHaveLength(1);
  });
});
