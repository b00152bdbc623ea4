import { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * A single Redis server or a Redis Cluster. Every key a multi-key command or script touches
 * must hash to one Cluster slot, so such keys share a `{...}` hash tag.
 */
export type RedisClient = Redis | Cluster;

/** Fail-fast options shared by single-server connections and every Cluster node connection. */
const connectionOptions = {
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  commandTimeout: 1000,
} as const;

const retryDelayMs = (attempt: number) => Math.min(attempt * 200, 2000);

/**
 * Opens a Redis connection that fails fast while Redis is down: commands are not queued, so a
 * caller can fall back at once, and the client keeps reconnecting in the background.
 */
export function openRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    ...connectionOptions,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    retryStrategy: retryDelayMs,
  });
  logOutages(redis, logger, 'redis');

  return redis;
}

/**
 * Opens a Redis Cluster client with the same fail-fast behaviour as {@link openRedis}. `nodes`
 * are `host:port` seeds; the client learns the other nodes and the slot map from them.
 */
export function openRedisCluster(nodes: readonly string[], logger: Logger): Cluster {
  const cluster = new Cluster(nodes.map(parseNode), {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    // Keeps retrying forever, like the single-server client; null would give up for good.
    clusterRetryStrategy: retryDelayMs,
    redisOptions: connectionOptions,
  });
  logOutages(cluster, logger, 'redis cluster');

  return cluster;
}

/** Parses `host:port` or `[ipv6]:port`. The config check already rejected other shapes. */
function parseNode(node: string): { host: string; port: number } {
  const separator = node.lastIndexOf(':');
  const host = node.slice(0, separator).replace(/^\[(.*)\]$/, '$1');

  return { host, port: Number(node.slice(separator + 1)) };
}

/** Logs the start of each outage once and its end once; ioredis emits an error per failed reconnect. */
function logOutages(client: RedisClient, logger: Logger, name: string): void {
  let down = false;
  client.on('ready', () => {
    if (down) logger.info(`${name} connection restored`);
    down = false;
  });
  client.on('error', (error: Error) => {
    if (!down) logger.error({ err: error }, `${name} unreachable; retrying in the background`);
    down = true;
  });
}
