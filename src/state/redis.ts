import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * Opens a Redis connection that fails fast while Redis is down: commands are not queued, so a
 * caller can fall back at once, and the client keeps reconnecting in the background.
 */
export function openRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let down = false;
  redis.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
  });
  redis.on('error', (error: Error) => {
    // ioredis emits an error for every failed reconnect; log the outage once.
    if (!down) logger.error({ err: error }, 'redis unreachable; retrying in the background');
    down = true;
  });

  return redis;
}
