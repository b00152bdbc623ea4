import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityDocument, LogoutDocument } from '../generated/graphql.js';
import { codeOf, eventually } from '../faults/support.js';
import { denyListFilled } from '../support/deny-list.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRedis, type RunningServer } from '../support/processes.js';
import { registerUser } from '../support/users.js';

// The list refills 5 s after a failed write, and again 5 s after each failed fill.
describe('deny-list fill while redis rejects writes', { timeout: 90_000 }, () => {
  let redisServer: RunningServer;
  let admin: Redis;
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    redisServer = await startRedis();
    admin = new Redis(redisServer.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
    gatehouse = await startGatehouse({ backend: 'pglite', env: { REDIS_URL: redisServer.url } });
  });
  afterAll(async () => {
    await gatehouse?.close();
    admin?.disconnect();
    await redisServer?.stop();
  });

  const lines = (msg: string) => gatehouse.logs.filter((line) => line.msg === msg).length;

  it('fails while its writes fail', async () => {
    expect(await denyListFilled(gatehouse)).toBe(true);
    const user = await registerUser(gatehouse);
    const filledBefore = lines('revocation deny-list filled from database');

    // Redis stays connected but rejects every write with OOM, the fill's writes included.
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    const logout = await gatehouse.op(LogoutDocument, {}, { token: user.accessToken });
    expect(logout.body.data?.logout).toBe(true);
    expect(await eventually(async () => lines('filling the revocation deny-list failed') > 0)).toBe(true);
    expect(lines('revocation deny-list filled from database')).toBe(filledBefore);
    const meanwhile = await gatehouse.op(IdentityDocument, {}, { token: user.accessToken });
    expect(codeOf(meanwhile)).toBe('UNAUTHENTICATED');

    await admin.config('SET', 'maxmemory', '0');
    expect(await eventually(async () => lines('revocation deny-list filled from database') > filledBefore)).toBe(true);
    const after = await gatehouse.op(IdentityDocument, {}, { token: user.accessToken });
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
  });
});
