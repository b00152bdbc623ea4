import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupLockKey, runCleanup } from '../../src/auth/cleanup.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { registerUser } from '../support/users.js';

const retentionSeconds = 7 * 86_400;

/** Moves a session and its tokens past expiry plus retention, or to just before it. */
async function expire(gatehouse: TestGatehouse, sessionId: string, daysAgo: number) {
  const prisma = gatehouse.app.services.prisma;
  await prisma.$executeRaw`
    UPDATE sessions SET expires_at = now() - make_interval(days => ${daysAgo}) WHERE id = ${sessionId}::uuid`;
  await prisma.$executeRaw`
    UPDATE refresh_tokens SET expires_at = now() - make_interval(days => ${daysAgo}) WHERE session_id = ${sessionId}::uuid`;
}

describe.each(backends)('session clean-up on %s', (backend) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend, env: { SESSION_CLEANUP_INTERVAL_SECONDS: '0' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('deletes expired rows and keeps live ones', async () => {
    const prisma = gatehouse.app.services.prisma;
    const live = await registerUser(gatehouse);
    const recentlyExpired = await registerUser(gatehouse);
    const longExpired = await Promise.all([registerUser(gatehouse), registerUser(gatehouse), registerUser(gatehouse)]);
    await expire(gatehouse, recentlyExpired.session.id, 1);
    for (const user of longExpired) await expire(gatehouse, user.session.id, 8);

    // A batch size of 2 makes the run loop over several statements.
    const result = await runCleanup(prisma, { retentionSeconds, batchSize: 2 });
    expect(result).toEqual({ skipped: false, refreshTokens: 3, sessions: 3 });

    const remaining = await prisma.session.findMany({
      where: { id: { in: [live, recentlyExpired, ...longExpired].map((user) => user.session.id) } },
    });
    expect(remaining.map((session) => session.id).sort()).toEqual(
      [live.session.id, recentlyExpired.session.id].sort(),
    );
    expect(await prisma.refreshToken.count({ where: { sessionId: live.session.id } })).toBe(1);
    expect(await runCleanup(prisma, { retentionSeconds })).toEqual({ skipped: false, refreshTokens: 0, sessions: 0 });
  });
});

describe('session clean-up lock', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ env: { SESSION_CLEANUP_INTERVAL_SECONDS: '0' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('skips while another run holds the lock', async () => {
    const user = await registerUser(gatehouse);
    await expire(gatehouse, user.session.id, 8);
    const holder = new pg.Client({ connectionString: gatehouse.config.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [cleanupLockKey.toString()]);
      const blocked = await runCleanup(gatehouse.app.services.prisma, { retentionSeconds });
      expect(blocked).toEqual({ skipped: true, refreshTokens: 0, sessions: 0 });
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    const after = await runCleanup(gatehouse.app.services.prisma, { retentionSeconds });
    expect(after.sessions).toBe(1);
  });

  it('two concurrent runs do not both delete', async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => registerUser(gatehouse)));
    for (const user of users) await expire(gatehouse, user.session.id, 8);

    const prisma = gatehouse.app.services.prisma;
    const results = await Promise.all([
      runCleanup(prisma, { retentionSeconds, batchSize: 1 }),
      runCleanup(prisma, { retentionSeconds, batchSize: 1 }),
    ]);
    expect(results.filter((result) => result.sessions > 0)).toHaveLength(1);
    expect(results.reduce((sum, result) => sum + result.sessions, 0)).toBe(4);
  });
});

describe('session clean-up job', () => {
  it('runs on its interval and logs counts', async () => {
    const gatehouse = await startGatehouse({ env: { SESSION_CLEANUP_INTERVAL_SECONDS: '1' } });
    try {
      const user = await registerUser(gatehouse);
      await expire(gatehouse, user.session.id, 8);
      const deadline = Date.now() + 20_000;
      const logged = () => gatehouse.logs.find((line) => line.msg === 'expired sessions cleaned up' && line.sessions === 1);
      while (!logged() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      // A run between the two updates of expire() deletes the token by cascade, so only the
      // session count is certain.
      expect(logged()).toMatchObject({ skipped: false, sessions: 1 });
    } finally {
      await gatehouse.close();
    }
  });
});
