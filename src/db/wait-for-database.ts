import pg from 'pg';
import type { Logger } from '../logger.js';
import { isDatabaseUnavailable } from './unavailable.js';

/** Connects once and disconnects, so that the attempt leaves no connection behind. */
async function tryConnect(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Waits until PostgreSQL at `url` accepts a connection, for at most `waitMs`, so that an instance
 * that starts before its database, as in a fresh deployment, does not exit at once. Only errors
 * that {@link isDatabaseUnavailable} counts as an unreachable or starting server are retried, so a
 * wrong password or a missing database fails at once. Each failed attempt logs one line, and the
 * delay doubles from 0.5 s up to 5 s. The last error is thrown once the time is up.
 */
export async function waitForDatabase(url: string, waitMs: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + waitMs;
  let delayMs = 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await tryConnect(url);
      if (attempt > 1) logger.info({ attempt }, 'database reachable');
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (!isDatabaseUnavailable(error) || Date.now() + delayMs > deadline) throw error;
      logger.warn({ err: error, code, attempt, retryInMs: delayMs }, 'database not reachable: retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
}
