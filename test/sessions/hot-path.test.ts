import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityDocument, LogoutAllDocument } from '../generated/graphql.js';
import { allowRegistrations, commandCount, countCommands, countDelta, limitedEnv } from '../rate-limit/support.js';
import { createTestDatabase, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRedis, type RunningServer } from '../support/processes.js';
import { registerUser } from '../support/users.js';
import { denyListFilled } from '../support/deny-list.js';

const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
  response.body.errors?.[0]?.extensions?.code;

// Both instances apply quotas to 127.0.0.1, so the deny-list is read inside the quota script.
describe('authenticated request hot path', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: RunningServer;
  let first: TestGatehouse;
  let second: TestGatehouse;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startRedis();
    const env = { ...limitedEnv, REDIS_URL: redis.url, LOG_LEVEL: 'trace' };
    first = await startGatehouse({ databaseUrl: database.url, env });
    second = await startGatehouse({ databaseUrl: database.url, dataDir: first.config.dataDir, env });
    await allowRegistrations(first);
    expect(await denyListFilled(first)).toBe(true);
    expect(await denyListFilled(second)).toBe(true);
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await redis?.stop();
    await database?.drop();
  });

  it('sends exactly one redis command', async () => {
    const user = await registerUser(first);
    const client = new Redis(redis.url);
    let sent: ReturnType<typeof countCommands> | undefined;
    try {
      // The first use loads the script and records lastUsedAt; later uses within the minute do neither.
      await second.op(IdentityDocument, {}, { token: user.accessToken });
      const before = await commandCount(client);
      const queriesBefore = second.logs.filter((line) => line.msg === 'database query').length;
      sent = countCommands(second.app.redis!);
      const response = await second.op(IdentityDocument, {}, { token: user.accessToken });
      sent.restore();
      const delta = countDelta(before, await commandCount(client));
      expect(response.body.data?.identity.sessionId).toBe(user.session.id);
      expect(sent.names).toEqual(['evalsha']);
      expect(delta.get('evalsha')).toBe(1);
      // The script read the deny-list entry of the session.
      expect(delta.get('exists')).toBe(1);
      expect(second.logs.filter((line) => line.msg === 'database query').length).toBe(queriesBefore);
    } finally {
      sent?.restore();
      client.disconnect();
    }
  });

  it('sees a revocation from another instance', async () => {
    const user = await registerUser(first);
    expect((await second.op(IdentityDocument, {}, { token: user.accessToken })).body.data?.identity.userId).toBe(
      user.user.id,
    );
    await first.op(LogoutAllDocument, {}, { token: user.accessToken });
    expect(codeOf(await second.op(IdentityDocument, {}, { token: user.accessToken }))).toBe('UNAUTHENTICATED');
  });

  it('charges a revoked token as anonymous', async () => {
    const user = await registerUser(first);
    await first.op(IdentityDocument, {}, { token: user.accessToken });
    await first.op(LogoutAllDocument, {}, { token: user.accessToken });
    const client = new Redis(redis.url);
    try {
      const userKey = `gatehouse:rl:{user:${user.user.id}}:free:*:minute`;
      const ipKey = 'gatehouse:rl:{ip:127.0.0.1}:free:*:minute';
      const userBefore = Number(await client.get(userKey));
      const ipBefore = Number(await client.get(ipKey));
      const response = await first.op(IdentityDocument, {}, { token: user.accessToken });
      expect(codeOf(response)).toBe('UNAUTHENTICATED');
      expect(Number(await client.get(userKey))).toBe(userBefore);
      expect(Number(await client.get(ipKey))).toBe(ipBefore + 1);
    } finally {
      client.disconnect();
    }
  });

  it('revokes a cached token on this instance', async () => {
    const user = await registerUser(first);
    // Two uses: the second is served from the verified-token cache.
    await first.op(IdentityDocument, {}, { token: user.accessToken });
    await first.op(IdentityDocument, {}, { token: user.accessToken });
    await first.op(LogoutAllDocument, {}, { token: user.accessToken });
    expect(codeOf(await first.op(IdentityDocument, {}, { token: user.accessToken }))).toBe('UNAUTHENTICATED');
  });
});
