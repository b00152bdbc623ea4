import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowRegistrations, countCommands, limitedEnv } from '../rate-limit/support.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRedis, type RunningServer } from '../support/processes.js';
import { defaultPassword, loginUser, registerUser } from '../support/users.js';
import { boundedGql, codeOf, eventually } from './support.js';

type RateLimitExtension = { rateLimit?: { degraded: boolean } };

const degradedOf = (response: { body: { extensions?: unknown } }) =>
  (response.body.extensions as RateLimitExtension | undefined)?.rateLimit?.degraded;

// SIGSTOP keeps Redis's socket open, so the client stays connected and every command waits for
// its timeout: the shape of a Redis that is overloaded or behind a network black hole.
describe('redis that stops responding', () => {
  let redis: RunningServer & { process: import('node:child_process').ChildProcess };
  let gatehouse: TestGatehouse;
  let paused = false;

  beforeAll(async () => {
    redis = await startRedis();
    gatehouse = await startGatehouse({ env: { ...limitedEnv, REDIS_URL: redis.url } });
    await allowRegistrations(gatehouse);
  }, 90_000);
  afterAll(async () => {
    if (paused) redis?.process.kill('SIGCONT');
    await gatehouse?.close();
    await redis?.stop();
  });

  it('skips redis after a command timeout', async () => {
    const user = await registerUser(gatehouse);
    const other = await loginUser(gatehouse, user.email);
    const identity = (token: string) => boundedGql(gatehouse.url, { query: '{ identity { userId } }', token });
    // The first use of each token records the session's use, which the later requests skip.
    expect(codeOf(await identity(user.accessToken))).toBeUndefined();
    expect(codeOf(await identity(other.accessToken))).toBeUndefined();

    redis.process.kill('SIGSTOP');
    paused = true;
    // This request waits out the command timeout and then counts in memory.
    const first = await identity(user.accessToken);
    expect(first.hung).toBe(false);
    expect(codeOf(first)).toBeUndefined();
    expect(degradedOf(first)).toBe(true);

    const sent = countCommands(gatehouse.app.redis!);
    const later = [];
    for (let request = 0; request < 5; request++) later.push(await identity(user.accessToken));
    // The login protection counts failures per email and network in Redis too.
    const login = await boundedGql(gatehouse.url, {
      query: 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }',
      variables: { input: { email: user.email, password: defaultPassword } },
    });
    // The first use of the new session records it, whose shared throttle lives in Redis too.
    const loginToken = (login.body.data as { login?: { accessToken: string } } | undefined)?.login?.accessToken;
    const fresh = await identity(loginToken ?? 'missing');
    sent.restore();
    expect(login.hung).toBe(false);
    expect(codeOf(login)).toBeUndefined();
    expect(fresh.hung).toBe(false);
    expect(codeOf(fresh)).toBeUndefined();
    for (const response of later) {
      expect(response.hung).toBe(false);
      expect(codeOf(response)).toBeUndefined();
      expect(degradedOf(response)).toBe(true);
    }
    // Only the background probe may reach Redis while it does not respond.
    expect(sent.names.filter((name) => name !== 'ping')).toEqual([]);

    // Skipping Redis must not skip the deny-list: PostgreSQL decides while Redis is skipped.
    const revoked = await boundedGql(gatehouse.url, {
      query: `mutation { revokeSession(id: "${other.session.id}") }`,
      token: user.accessToken,
    });
    expect(codeOf(revoked)).toBeUndefined();
    expect(codeOf(await identity(other.accessToken))).toBe('UNAUTHENTICATED');

    redis.process.kill('SIGCONT');
    paused = false;
    const recovered = await eventually(async () => degradedOf(await identity(user.accessToken)) === false);
    expect(recovered).toBe(true);
    expect(codeOf(await identity(other.accessToken))).toBe('UNAUTHENTICATED');
  }, 60_000);
});
