import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityDocument, LogoutAllDocument } from '../generated/graphql.js';
import { createTestDatabase, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRedis } from '../support/processes.js';
import { registerUser } from '../support/users.js';

const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
  response.body.errors?.[0]?.extensions?.code;

describe('revocation across instances', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let first: TestGatehouse;
  let second: TestGatehouse;
  let redisStopped = false;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startRedis();
    // Both instances need the same signing key, as a deployment shares JWT_PRIVATE_JWKS.
    first = await startGatehouse({ databaseUrl: database.url, env: { REDIS_URL: redis.url, LOG_LEVEL: 'trace' } });
    second = await startGatehouse({
      databaseUrl: database.url,
      dataDir: first.config.dataDir,
      env: { REDIS_URL: redis.url, LOG_LEVEL: 'trace' },
    });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    // stop() waits for an exit that already happened when called twice, so call it once.
    if (!redisStopped) await redis?.stop();
    await database?.drop();
  });

  it('revocation reaches the second instance', async () => {
    const user = await registerUser(first);
    expect((await second.op(IdentityDocument, {}, { token: user.accessToken })).body.data?.identity.userId).toBe(
      user.user.id,
    );
    await first.op(LogoutAllDocument, {}, { token: user.accessToken });
    expect(codeOf(await second.op(IdentityDocument, {}, { token: user.accessToken }))).toBe('UNAUTHENTICATED');
  });

  it('a valid token costs no database query', async () => {
    const user = await registerUser(first);
    // The first use records lastUsedAt; later uses within the minute are free.
    await second.op(IdentityDocument, {}, { token: user.accessToken });
    const queriesBefore = second.logs.filter((line) => line.msg === 'database query').length;
    const response = await second.op(IdentityDocument, {}, { token: user.accessToken });
    expect(response.body.data?.identity.sessionId).toBe(user.session.id);
    const queriesAfter = second.logs.filter((line) => line.msg === 'database query').length;
    expect(queriesAfter - queriesBefore).toBe(0);
    // The counter itself works: a field that reads the database is seen.
    await second.gql({ query: '{ sessions { id } }', token: user.accessToken });
    expect(second.logs.filter((line) => line.msg === 'database query').length).toBeGreaterThan(queriesAfter);
  });

  it('Redis down falls back to PostgreSQL', async () => {
    const user = await registerUser(first);
    const other = await registerUser(first);
    await second.op(IdentityDocument, {}, { token: user.accessToken });
    await redis.stop();
    redisStopped = true;

    const loggedOut = await first.op(LogoutAllDocument, {}, { token: user.accessToken });
    expect(loggedOut.body.data?.logoutAll).toBe(1);
    expect(codeOf(await second.op(IdentityDocument, {}, { token: user.accessToken }))).toBe('UNAUTHENTICATED');
    expect((await second.op(IdentityDocument, {}, { token: other.accessToken })).body.data?.identity.userId).toBe(
      other.user.id,
    );
  });
});
