import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityDocument, LogoutAllDocument } from '../generated/graphql.js';
import { allowRegistrations, countCommands, limitedEnv } from '../rate-limit/support.js';
import { createTestDatabase, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { denyListFilled } from '../support/deny-list.js';
import { startRedis, type RunningServer } from '../support/processes.js';
import { loginUser, registerUser } from '../support/users.js';
import { codeOf } from '../faults/support.js';

// The tests share one database, Redis and signing key. Each test stops the running instance and
// starts another on them, as a deployment of a new version does.
describe('deny-list across a restart', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: RunningServer;
  let probe: Redis;
  let dataDir: string;
  let gatehouse: TestGatehouse | undefined;

  const start = async () => {
    await gatehouse?.close();
    const env = { ...limitedEnv, REDIS_URL: redis.url };
    gatehouse = await startGatehouse({ databaseUrl: database.url, dataDir, env });
    expect(await denyListFilled(gatehouse)).toBe(true);

    return gatehouse;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startRedis();
    probe = new Redis(redis.url);
    dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-upgrade-'));
    await allowRegistrations(await start());
  });
  afterAll(async () => {
    probe?.disconnect();
    await gatehouse?.close();
    await redis?.stop();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('denies a session revoked before the restart', async () => {
    const before = await start();
    const user = await registerUser(before);
    const other = await loginUser(before, user.email);
    await before.op(LogoutAllDocument, { keepCurrent: true }, { token: user.accessToken });
    const key = `gatehouse:revoked:{user:${user.user.id}}:${other.session.id}`;
    expect(await probe.exists(key)).toBe(1);

    const after = await start();
    // The first use loads the script and marks the session used. The counted request does neither.
    expect(codeOf(await after.op(IdentityDocument, {}, { token: other.accessToken }))).toBe('UNAUTHENTICATED');
    const sent = countCommands(after.app.redis!);
    let rejected;
    try {
      rejected = await after.op(IdentityDocument, {}, { token: other.accessToken });
    } finally {
      sent.restore();
    }
    expect(codeOf(rejected)).toBe('UNAUTHENTICATED');
    // The quota script found the entry, and a second call charged the client address.
    expect(sent.names).toEqual(['evalsha', 'evalsha']);
    const current = await after.op(IdentityDocument, {}, { token: user.accessToken });
    expect(current.body.data?.identity.sessionId).toBe(user.session.id);
  });

  it('denies a session whose entry has the previous key name', async () => {
    const before = await start();
    const user = await registerUser(before);
    // What the previous version leaves behind: the revocation in PostgreSQL and an entry whose
    // key has no hash tag.
    await before.app.services.prisma.session.update({
      where: { id: user.session.id },
      data: { revokedAt: new Date(), revokedReason: 'logout_all' },
    });
    await probe.set(`gatehouse:revoked:${user.session.id}`, '1', 'PX', 60_000);
    const key = `gatehouse:revoked:{user:${user.user.id}}:${user.session.id}`;
    expect(await probe.exists(key)).toBe(0);

    const after = await start();
    expect(await probe.exists(key)).toBe(1);
    expect(codeOf(await after.op(IdentityDocument, {}, { token: user.accessToken }))).toBe('UNAUTHENTICATED');
  });
});
