import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { legacyRevokedKey, RedisRevocationList, revokedKey } from '../../src/auth/redis-revocation-list.js';
import { bucketKey } from '../../src/rate-limit/limiter.js';
import { createLogger } from '../../src/logger.js';
import { openRedis } from '../../src/state/redis.js';
import { capturingLogger, deferred } from '../support/fill-helpers.js';
import { startRedis } from '../support/processes.js';

const ttlMs = 60_000;

function openList() {
  const { logger, lines } = capturingLogger();
  const redis = openRedis(inject('redisUrl'), logger);

  return { redis, lines, list: new RedisRevocationList(redis, ttlMs, logger) };
}

describe('redis revocation list', () => {
  const opened: ReturnType<typeof openList>[] = [];
  const openConnectedList = async () => {
    const list = openList();
    opened.push(list);
    await list.redis.connect();

    return list;
  };
  afterEach(() => {
    for (const { redis } of opened.splice(0)) redis.disconnect();
  });

  it('defers lookups to PostgreSQL until filled', async () => {
    const { list } = await openConnectedList();
    const session = { userId: randomUUID(), sessionId: randomUUID() };
    const fill = deferred();
    list.onResync(() => fill.promise);

    expect(await list.status(session)).toBe('unknown');
    expect(list.redisKeyOf(session)).toBeUndefined();
    fill.resolve();
    await fill.promise;
    expect(await list.status(session)).toBe('live');
    expect(list.redisKeyOf(session)).toBe(revokedKey(session));
    await list.add([session]);
    expect(await list.status(session)).toBe('revoked');
  });

  it('stays unfilled after a failed fill', async () => {
    const { list, lines } = await openConnectedList();
    const session = { userId: randomUUID(), sessionId: randomUUID() };
    const fill = deferred();
    list.onResync(() => fill.promise);
    fill.reject(new Error('database unreachable'));
    await fill.promise.catch(() => undefined);

    expect(await list.status(session)).toBe('unknown');
    expect(list.redisKeyOf(session)).toBeUndefined();
    expect(lines.filter((line) => line.msg === 'filling the revocation deny-list failed')).toHaveLength(1);
  });

  it('writes the new and the previous key', async () => {
    const { redis, list } = await openConnectedList();
    const session = { userId: randomUUID(), sessionId: randomUUID() };
    await list.add([session]);

    expect(await redis.exists(`gatehouse:revoked:{user:${session.userId}}:${session.sessionId}`)).toBe(1);
    expect(await redis.exists(`gatehouse:revoked:${session.sessionId}`)).toBe(1);
    expect(await redis.pttl(legacyRevokedKey(session))).toBeGreaterThan(0);
    expect(await redis.pttl(revokedKey(session))).toBeLessThanOrEqual(ttlMs);
  });
});

describe('redis revocation list on reconnect', () => {
  it('is unfilled when the connection is ready', async () => {
    const { redis, list } = openList();
    const killer = openRedis(inject('redisUrl'), createLogger('silent'));
    try {
      await redis.connect();
      await killer.connect();
      const session = { userId: randomUUID(), sessionId: randomUUID() };
      const filled = deferred();
      list.onResync(async () => filled.resolve());
      await filled.promise;
      await new Promise((resolve) => setImmediate(resolve));
      expect(list.redisKeyOf(session)).toBe(revokedKey(session));

      // ioredis sets `status` to ready before it emits 'ready', and requests can run in between.
      // Redis may have restarted empty, so the list must not count as filled at that moment.
      let status = redis.status;
      const keysWhenReady: (string | undefined)[] = [];
      Object.defineProperty(redis, 'status', {
        configurable: true,
        get: () => status,
        set: (value: typeof status) => {
          status = value;
          if (value === 'ready') keysWhenReady.push(list.redisKeyOf(session));
        },
      });
      const ready = new Promise((resolve) => redis.once('ready', resolve));
      await killer.client('KILL', 'ID', String(await redis.client('ID')));
      await ready;

      expect(keysWhenReady).toEqual([undefined]);
    } finally {
      redis.disconnect();
      killer.disconnect();
    }
  });
});

describe('redis revocation list after a failed write', () => {
  it('stays unfilled while redis is connected', async () => {
    const server = await startRedis();
    const { logger, lines } = capturingLogger();
    const redis = openRedis(server.url, logger);
    try {
      await redis.connect();
      const list = new RedisRevocationList(redis, ttlMs, logger);
      const session = { userId: randomUUID(), sessionId: randomUUID() };
      // The fill copies the sessions that PostgreSQL records as revoked, here just `session`.
      let revokedInDatabase: (typeof session)[] = [];
      const filled = deferred();
      list.onResync(async () => {
        await list.add(revokedInDatabase);
        filled.resolve();
      });
      await filled.promise;
      // RevocationFill marks the list filled in a callback after the fill's promise settles.
      await new Promise((resolve) => setImmediate(resolve));
      expect(await list.status(session)).toBe('live');

      // Redis stays connected but rejects writes with OOM, so the entry is not written.
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      await redis.config('SET', 'maxmemory', '1');
      revokedInDatabase = [session];
      await list.add([session]);
      await redis.config('SET', 'maxmemory', '0');

      expect(lines.filter((line) => line.msg === 'revocation not written to redis')).toHaveLength(1);
      expect(await list.status(session)).not.toBe('live');
      expect(list.redisKeyOf(session)).toBeUndefined();
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});

describe('redis key layout', () => {
  const userId = randomUUID();
  const hashTag = (key: string) => /\{[^}]*\}/.exec(key)?.[0];

  it('tags deny-list and quota keys alike', () => {
    const deniedKey = revokedKey({ userId, sessionId: randomUUID() });
    const quotaKey = bucketKey({ plan: 'free', userId, ip: '192.0.2.7' }, '*', 'minute');
    expect(hashTag(deniedKey)).toBe(`{user:${userId}}`);
    expect(hashTag(quotaKey)).toBe(`{user:${userId}}`);
  });

  it('keeps plans apart outside the tag', () => {
    const free = bucketKey({ plan: 'free', userId, ip: null }, '*', 'minute');
    const pro = bucketKey({ plan: 'pro', userId, ip: null }, '*', 'minute');
    expect(free).toBe(`gatehouse:rl:{user:${userId}}:free:*:minute`);
    expect(pro).toBe(`gatehouse:rl:{user:${userId}}:pro:*:minute`);
  });

  it('tags anonymous callers by network', () => {
    const key = bucketKey({ plan: 'free', userId: null, ip: '2001:db8:1:2:3:4:5:6' }, '*', 'minute');
    expect(key).toBe('gatehouse:rl:{ip:2001:db8:1:2::/64}:free:*:minute');
  });
});
