import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument } from '../generated/graphql.js';
import { createLogger } from '../../src/logger.js';
import { LockoutAudit, type Lockout } from '../../src/rate-limit/lockout-audit.js';
import { LoginGuard, type LoginGuardOptions } from '../../src/rate-limit/login-guard.js';
import { createTestDatabase, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRedis, type RunningServer } from '../support/processes.js';
import { defaultPassword, registerUser, uniqueEmail } from '../support/users.js';
import { allowRegistrations, limitedEnv, setRule } from './support.js';

const codeOf = (error: unknown) => (error as { extensions?: { code?: string } }).extensions?.code;
const originOf = (ip: string) => ({ ip, userAgent: null });

/** Builds one request with `count` aliased login fields for the same email. */
function aliasedLogins(count: number, email: string, password = 'wrong password 123') {
  const fields = Array.from(
    { length: count },
    (_, index) => `l${index}: login(input: { email: $email, password: $password }) { accessToken }`,
  );

  return { query: `mutation Guess($email: String!, $password: String!) { ${fields.join(' ')} }`, variables: { email, password } };
}

async function failedLogins(gatehouse: TestGatehouse, email: string): Promise<number> {
  return gatehouse.app.services.prisma.auditLog.count({
    where: { action: 'user.login_failed', metadata: { path: ['email'], equals: email } },
  });
}

describe('login guard over http', () => {
  let redis: RunningServer;
  let strict: TestGatehouse;
  let open: TestGatehouse;

  beforeAll(async () => {
    redis = await startRedis();
    strict = await startGatehouse({ env: { ...limitedEnv, REDIS_URL: redis.url } });
    open = await startGatehouse({
      env: {
        ...limitedEnv,
        REDIS_URL: redis.url,
        GRAPHQL_MAX_ALIASES: '150',
        GRAPHQL_MAX_TOKENS: '20000',
        GRAPHQL_MAX_COST: '100000',
        LOGIN_MAX_FAILURES_PER_IP: '100000',
      },
    });
    await allowRegistrations(open);
    for (const window of ['minute', 'hour', 'day'] as const) {
      await setRule(open, { operation: 'login', window, points: 100_000, failMode: 'closed' });
    }
  });
  afterAll(async () => {
    await strict?.close();
    await open?.close();
    await redis?.stop();
  });

  it('rejects 100 aliased logins before any resolver', async () => {
    const email = uniqueEmail('aliases');
    const response = await strict.gql(aliasedLogins(100, email));
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors?.map(codeOf)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(await failedLogins(strict, email)).toBe(0);
  });

  it('rejects aliased logins over the login quota as a whole', async () => {
    const email = uniqueEmail('quota');
    const response = await strict.gql(aliasedLogins(25, email));
    expect(response.status).toBe(429);
    expect(response.body.errors?.map(codeOf)).toEqual(['RATE_LIMITED']);
    expect(await failedLogins(strict, email)).toBe(0);
  });

  it('runs 100 aliased logins only up to the first failure', async () => {
    // login is non-null, so graphql-js stops a serial mutation at its first failing field.
    const user = await registerUser(open);
    const response = await open.gql(aliasedLogins(100, user.email));
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors?.map(codeOf)).toEqual(['INVALID_CREDENTIALS']);
    expect(await failedLogins(open, user.email)).toBe(1);
  });

  it('locks an email after ten failures among 100 parallel logins', async () => {
    const user = await registerUser(open);
    const input = { email: user.email, password: 'wrong password 123' };
    const responses = await Promise.all(Array.from({ length: 100 }, () => open.op(LoginDocument, { input })));
    const codes = responses.map((response) => response.body.errors?.[0]?.extensions?.code);
    expect(codes.filter((code) => code === 'INVALID_CREDENTIALS')).toHaveLength(10);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(90);
    expect(await failedLogins(open, user.email)).toBe(10);

    // The right password does not get through a lockout either.
    const locked = await open.op(LoginDocument, { input: { email: user.email, password: defaultPassword } });
    expect(locked.status).toBe(429);
    expect(locked.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(locked.headers.get('retry-after')).toBe(String(locked.body.errors?.[0]?.extensions?.retryAfter));
  });

  it('shares one bucket across case and Unicode variants', async () => {
    const local = `jos\u00e9-${Date.now()}`;
    const user = await registerUser(open, { email: `${local}@example.com` });
    const variants = [
      `${local.toUpperCase()}@EXAMPLE.COM`,
      `  ${local}@example.com `,
      `${local.normalize('NFD')}@Example.com`,
    ];
    for (let attempt = 0; attempt < 10; attempt++) {
      const email = variants[attempt % variants.length]!;
      const response = await open.op(LoginDocument, { input: { email, password: 'wrong password 123' } });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    }
    const eleventh = await open.op(LoginDocument, { input: { email: variants[2]!, password: defaultPassword } });
    expect(eleventh.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(user.email).toBe(`${local}@example.com`);
  });

  it('resets the email count on success', async () => {
    const user = await registerUser(open);
    for (let round = 0; round < 2; round++) {
      for (let attempt = 0; attempt < 9; attempt++) {
        const response = await open.op(LoginDocument, { input: { email: user.email, password: 'wrong password 123' } });
        expect(response.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
      }
      const success = await open.op(LoginDocument, { input: { email: user.email, password: defaultPassword } });
      expect(success.body.data?.login.user.id).toBe(user.user.id);
    }
  });
});

describe('lockout audit across instances', () => {
  let redis: RunningServer;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let first: TestGatehouse;
  let second: TestGatehouse;

  beforeAll(async () => {
    redis = await startRedis();
    database = await createTestDatabase();
    const env = {
      ...limitedEnv,
      REDIS_URL: redis.url,
      LOGIN_MAX_FAILURES_PER_EMAIL: '3',
      LOGIN_MAX_FAILURES_PER_IP: '20',
    };
    first = await startGatehouse({ env, databaseUrl: database.url });
    second = await startGatehouse({ env, databaseUrl: database.url });
    await allowRegistrations(first);
    for (const window of ['minute', 'hour', 'day'] as const) {
      await setRule(first, { operation: 'login', window, points: 100_000, failMode: 'closed' });
      await setRule(second, { operation: 'login', window, points: 100_000, failMode: 'closed' });
    }
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.drop();
    await redis?.stop();
  });

  const lockedEvents = (scope: string) =>
    first.app.services.prisma.auditLog.findMany({
      where: { action: 'user.login_locked', metadata: { path: ['scope'], equals: scope } },
    });

  it('records one event per locked email', async () => {
    const user = await registerUser(first);
    const wrong = 'wrong password 123';
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await first.op(LoginDocument, { input: { email: user.email, password: wrong } });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    }
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        (index % 2 === 0 ? first : second).op(LoginDocument, { input: { email: user.email, password: defaultPassword } }),
      ),
    );
    for (const response of responses) expect(response.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

    const events = await lockedEvents('email');
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.actorId).toBeNull();
    expect(event?.targetId).toBeNull();
    expect(event?.ip).toBe('127.0.0.1');
    expect(event?.metadata).toMatchObject({ scope: 'email', email: user.email, network: '127.0.0.1' });
    const lockedUntil = (event?.metadata as { lockedUntil?: string }).lockedUntil;
    expect(new Date(lockedUntil!).getTime()).toBeGreaterThan(event!.createdAt.getTime());
    const stored = JSON.stringify(event?.metadata);
    expect(stored).not.toContain(defaultPassword);
    expect(stored).not.toContain(wrong);
  });

  it('records one event per locked address', async () => {
    // The address may already carry failures of the test before, so guess until it is locked.
    let locked = false;
    for (let attempt = 0; attempt < 25 && !locked; attempt++) {
      const input = { email: uniqueEmail('spray'), password: 'wrong password 123' };
      const response = await first.op(LoginDocument, { input });
      locked = response.body.errors?.[0]?.extensions?.code === 'RATE_LIMITED';
    }
    expect(locked).toBe(true);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        (index % 2 === 0 ? first : second).op(LoginDocument, {
          input: { email: uniqueEmail('spray'), password: 'wrong password 123' },
        }),
      ),
    );
    for (const response of responses) expect(response.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

    const events = await lockedEvents('ip');
    expect(events).toHaveLength(1);
    expect(events[0]?.ip).toBe('127.0.0.1');
    expect(events[0]?.metadata).toMatchObject({ scope: 'ip', network: '127.0.0.1' });
  });

  it('records the next lock of an email again', async () => {
    const services = first.app.services;
    const audit = new LockoutAudit({
      prisma: services.prisma,
      logger: createLogger('silent'),
      markOnce: (key, ttlMs, origin) => services.rateLimits.markOnce(key, ttlMs, origin),
    });
    const email = uniqueEmail('relocked');
    // A lock with 1 ms left: its mark is gone by the time the next lock starts.
    const lockout: Lockout = { scope: 'email', key: `key-${email}`, email, network: '192.0.2.9', msBeforeNext: 1 };
    const countEvents = () =>
      services.prisma.auditLog.count({
        where: { action: 'user.login_locked', metadata: { path: ['email'], equals: email } },
      });

    await audit.record(lockout, originOf('192.0.2.9'));
    expect(await countEvents()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const nextLock = { ...lockout, msBeforeNext: 60_000 };
    await audit.record(nextLock, originOf('192.0.2.9'));
    expect(await countEvents()).toBe(2);
    await audit.record(nextLock, originOf('192.0.2.9'));
    expect(await countEvents()).toBe(2);
  });
});

describe('login guard across addresses', () => {
  const options: LoginGuardOptions = {
    maxFailuresPerEmail: 5,
    emailLockoutSeconds: 60,
    maxFailuresPerIp: 3,
    ipWindowSeconds: 60,
    maxRegistrationsPerIp: 2,
    exemptIps: [],
  };
  const logger = createLogger('silent');
  let redis: RunningServer;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    await new Promise((resolve) => client.once('ready', resolve));
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it.each([
    ['redis', () => client],
    ['memory', () => undefined],
  ])('locks an email guessed from many addresses on %s', async (_name, redisOf) => {
    const guard = new LoginGuard(redisOf(), options, logger);
    const email = uniqueEmail('stuffing');
    for (let attempt = 0; attempt < 5; attempt++) await guard.beginLogin(email, originOf(`198.51.100.${attempt + 1}`));
    await expect(guard.beginLogin(email, originOf('198.51.100.99'))).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED' },
    });
  });

  it('limits failures per address and groups IPv6 by /64', async () => {
    const guard = new LoginGuard(client, options, logger);
    for (let attempt = 0; attempt < 3; attempt++) {
      await guard.beginLogin(uniqueEmail('spray'), originOf(`2001:db8:1:2::${attempt + 1}`));
    }
    await expect(guard.beginLogin(uniqueEmail('spray'), originOf('2001:db8:1:2:ffff::9'))).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED' },
    });
    await guard.beginLogin(uniqueEmail('spray'), originOf('2001:db8:1:3::1'));
  });

  it('exempts only the listed IPv6 address', async () => {
    const guard = new LoginGuard(undefined, { ...options, exemptIps: ['2001:DB8:7:7:0:0:0:1'] }, logger);
    for (let attempt = 0; attempt < 4; attempt++) {
      await guard.beginLogin(uniqueEmail('exempt'), originOf('2001:db8:7:7::1'));
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      await guard.beginLogin(uniqueEmail('neighbour'), originOf(`2001:db8:7:7::${attempt + 2}`));
    }
    await expect(guard.beginLogin(uniqueEmail('neighbour'), originOf('2001:db8:7:7::9'))).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED' },
    });
  });

  it('returns the address point on success', async () => {
    const guard = new LoginGuard(client, options, logger);
    for (let attempt = 0; attempt < 10; attempt++) {
      const login = await guard.beginLogin(uniqueEmail('good'), originOf('198.51.100.200'));
      await login.succeeded();
    }
  });

  it('limits registrations per address', async () => {
    const guard = new LoginGuard(client, options, logger);
    await guard.beginRegister(uniqueEmail('reg'), originOf('198.51.100.77'));
    await guard.beginRegister(uniqueEmail('reg'), originOf('198.51.100.77'));
    await expect(guard.beginRegister(uniqueEmail('reg'), originOf('198.51.100.77'))).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED' },
    });
  });

  it('returns registration points of an abandoned attempt', async () => {
    const guard = new LoginGuard(client, options, logger);
    const email = uniqueEmail('outage');
    for (let attempt = 0; attempt < 5; attempt++) {
      const registration = await guard.beginRegister(email, originOf('198.51.100.78'));
      await registration.abandoned();
    }
    await guard.beginRegister(email, originOf('198.51.100.78'));
  });
});
