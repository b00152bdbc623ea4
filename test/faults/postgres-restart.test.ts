import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowRegistrations, limitedEnv } from '../rate-limit/support.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startPostgres } from '../support/processes.js';
import { defaultPassword, registerUser, uniqueEmail } from '../support/users.js';
import { boundedGql, codeOf, eventually, sleep } from './support.js';

const loginQuery = 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }';
const registerQuery = 'mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }';

describe('postgresql stopped and started', () => {
  let postgres: Awaited<ReturnType<typeof startPostgres>>;
  let gatehouse: TestGatehouse;
  let postgresRunning = true;

  beforeAll(async () => {
    postgres = await startPostgres();
    gatehouse = await startGatehouse({
      databaseUrl: postgres.url,
      // Loopback is not exempt, so requests run the quota check, which reads the user's plan.
      env: { ...limitedEnv, DATABASE_POOL_SIZE: '4', LOGIN_MAX_FAILURES_PER_EMAIL: '3' },
    });
    await allowRegistrations(gatehouse);
  }, 90_000);
  afterAll(async () => {
    if (!postgresRunning) postgres?.start();
    await gatehouse?.close();
    await postgres?.stop();
  });

  it('fails fast with 503 and recovers', async () => {
    const user = await registerUser(gatehouse);
    const login = (email: string) => boundedGql(gatehouse.url, { query: loginQuery, variables: { input: { email, password: defaultPassword } } });
    expect(codeOf(await login(user.email))).toBeUndefined();
    // The first use of a token records the session's lastUsedAt; later ones within a minute skip it.
    await boundedGql(gatehouse.url, { query: '{ identity { userId } }', token: user.accessToken });

    postgres.pause();
    postgresRunning = false;
    // More logins than the lockout allows: an outage is not a wrong password.
    const needDatabase = [
      await login(user.email),
      await login(user.email),
      await login(user.email),
      await login(user.email),
      await boundedGql(gatehouse.url, { query: '{ me { id } }', token: user.accessToken }),
      await boundedGql(gatehouse.url, { query: '{ sessions { id } }', token: user.accessToken }),
      await boundedGql(gatehouse.url, {
        query: 'mutation ($token: String) { refreshToken(token: $token) { accessToken } }',
        variables: { token: user.refreshToken },
      }),
      await boundedGql(gatehouse.url, { query: 'mutation { logoutAll }', token: user.accessToken }),
      await boundedGql(gatehouse.url, {
        query: registerQuery,
        variables: { input: { email: uniqueEmail(), password: defaultPassword, displayName: 'New' } },
      }),
    ];
    for (const response of needDatabase) {
      expect(response.hung).toBe(false);
      expect(response.status).toBe(503);
      expect(codeOf(response)).toBe('SERVICE_UNAVAILABLE');
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    // A verified token with a live session in Redis needs no database.
    const identity = await boundedGql(gatehouse.url, { query: '{ identity { userId } }', token: user.accessToken });
    expect(identity.status).toBe(200);
    expect((identity.body.data?.identity as { userId: string }).userId).toBe(user.user.id);

    postgres.start();
    postgresRunning = true;
    const recovered = await eventually(async () => codeOf(await login(user.email)) === undefined);
    expect(recovered).toBe(true);
    const me = await boundedGql(gatehouse.url, { query: '{ me { id } }', token: user.accessToken });
    expect((me.body.data?.me as { id: string }).id).toBe(user.user.id);
    const rawText = gatehouse.rawLogs.join('\n');
    expect(rawText).not.toContain(defaultPassword);
  }, 90_000);

  it('serves access tokens after the plan cache expires', async () => {
    const known = await registerUser(gatehouse);
    const unseen = await registerUser(gatehouse);
    const identity = (token: string) => boundedGql(gatehouse.url, { query: '{ identity { userId } }', token });
    // Caches the plan of `known`. `unseen` first calls during the outage, with no cached plan.
    expect(codeOf(await identity(known.accessToken))).toBeUndefined();

    postgres.pause();
    postgresRunning = false;
    // Longer than the 5 s for which an instance caches a user's plan.
    await sleep(5_500);
    for (const [user, response] of [
      [known, await identity(known.accessToken)],
      [known, await identity(known.accessToken)],
      [unseen, await identity(unseen.accessToken)],
    ] as const) {
      expect(response.hung).toBe(false);
      expect(codeOf(response)).toBeUndefined();
      expect((response.body.data?.identity as { userId: string }).userId).toBe(user.user.id);
    }

    postgres.start();
    postgresRunning = true;
  }, 90_000);
});
