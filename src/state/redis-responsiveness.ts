import type { Logger } from '../logger.js';
import type { RedisClient } from './redis.js';

/** Time between two PINGs while Redis is skipped, in ms. */
const probeIntervalMs = 1_000;

/**
 * Tracks whether a connected Redis responds. A Redis that accepts connections but stops
 * responding (a stopped or overloaded process, or a network path that drops packets) keeps the
 * ioredis client `ready`, so every command would wait out the command timeout. After a command
 * times out, {@link responding} is false, so the per-request paths fall back to memory and
 * PostgreSQL at once, until a PING, sent once a second in the background, gets a reply.
 *
 * NOTE: on a Redis Cluster the PING goes to one node, so a node that stops responding while the
 * others respond lets requests try Redis again after each reply.
 */
export class RedisResponsiveness {
  #skipping = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
  ) {}

  /** True unless a command timed out and no PING has got a reply since. */
  get responding(): boolean {
    return !this.#skipping;
  }

  /** Starts skipping Redis when `error` is a command timeout. Other errors change nothing. */
  report(error: unknown): void {
    if (this.#skipping || !isCommandTimeout(error)) return;
    this.#skipping = true;
    this.logger.error({ err: error }, 'redis stopped responding: skipping it until a PING gets a reply');
    this.#scheduleProbe();
  }

  #scheduleProbe(): void {
    const probe = setTimeout(() => void this.#sendProbe(), probeIntervalMs);
    probe.unref();
  }

  async #sendProbe(): Promise<void> {
    // A closed client gets no more probes. It reconnects with a new 'ready' status instead.
    if (this.redis.status === 'end') return;
    try {
      await this.redis.ping();
      this.#skipping = false;
      this.logger.info('redis responds again');
    } catch {
      // Still not responding: the outage was logged when it started.
      this.#scheduleProbe();
    }
  }
}

const byClient = new WeakMap<RedisClient, RedisResponsiveness>();

/** Returns the one tracker of `redis`, so every user of the client skips it together. */
export function responsivenessOf(redis: RedisClient, logger: Logger): RedisResponsiveness {
  let tracker = byClient.get(redis);
  if (!tracker) {
    tracker = new RedisResponsiveness(redis, logger);
    byClient.set(redis, tracker);
  }

  return tracker;
}

/** ioredis rejects a command that got no reply within `commandTimeout` with this message. */
function isCommandTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
}
