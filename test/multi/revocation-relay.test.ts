import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revocationChannel } from '../../src/auth/revocation-relay.js';
import { eventually } from '../faults/support.js';
import { createTestDatabase, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRedis, type RunningServer } from '../support/processes.js';
import { loginUser, registerUser } from '../support/users.js';

const origin = { ip: '127.0.0.1', userAgent: 'revocation-relay test' };

describe('revocation relay', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: RunningServer;
  let admin: Redis;
  let listener: pg.Client;
  let gatehouse: TestGatehouse;
  const payloads: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startRedis();
    admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
    gatehouse = await startGatehouse({
      databaseUrl: database.url,
      env: { REDIS_URL: redis.url, SESSION_CLEANUP_INTERVAL_SECONDS: '0' },
    });
    listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    listener.on('notification', (message) => payloads.push(message.payload ?? ''));
    await listener.query(`LISTEN ${revocationChannel}`);
  }, 90_000);
  afterAll(async () => {
    await admin?.config('SET', 'maxmemory', '0').catch(() => undefined);
    admin?.disconnect();
    await listener?.end();
    await gatehouse?.close();
    await redis?.stop();
    await database?.drop();
  });

  it('catches up once listening starts', async () => {
    // The fill at start reads PostgreSQL before the listener runs LISTEN, and a notification
    // sent in between never arrives, so the first LISTEN is followed by a catch-up too.
    const caughtUp = () => gatehouse.logs.some((line) => line.msg === 'caught up on revocations the database listener may have missed');
    expect(await eventually(async () => caughtUp())).toBe(true);
  });

  it('relays new revocations, not the fill', async () => {
    const user = await registerUser(gatehouse);
    const earlier = await loginUser(gatehouse, user.email);
    const later = await loginUser(gatehouse, user.email);
    const { sessions } = gatehouse.app.services;
    // Written to Redis while it accepts writes, so no instance needs it relayed.
    expect(await sessions.revokeSession(user.user.id, earlier.session.id, 'test', origin, null)).toBe(true);
    expect(gatehouse.logs.filter((line) => line.msg === 'revocation not written to redis')).toEqual([]);

    // With maxmemory 1 and the default noeviction policy, every write fails with OOM while reads work.
    await admin.config('SET', 'maxmemory', '1');
    expect(await sessions.revokeSession(user.user.id, later.session.id, 'test', origin, null)).toBe(true);
    // The failed write starts a fill from PostgreSQL after 5 s, and its writes fail too.
    const fillFailed = () => gatehouse.logs.some((line) => line.msg === 'filling the revocation deny-list failed');
    expect(await eventually(async () => fillFailed(), 150)).toBe(true);

    // Notifications arrive in commit order, so this marker comes after any sent by the fill.
    await listener.query('SELECT pg_notify($1, $2)', [revocationChannel, 'marker']);
    expect(await eventually(async () => payloads.includes('marker'))).toBe(true);
    const relayed = payloads.flatMap((payload) => payload.split(','));
    expect(relayed).toContain(later.session.id);
    expect(relayed).not.toContain(earlier.session.id);
  }, 60_000);
});
