import pg from 'pg';
import type { Logger } from '../logger.js';

/**
 * Error codes of a PostgreSQL server that is not reachable yet, or still starting: network
 * errors of the socket and DNS, and `cannot_connect_now` (57P03), which PostgreSQL sends while it
 * starts up or recovers. Other errors, such as a wrong password or a missing database, do not go
 * away by waiting.
 */
const transientCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P03']);

/** pg rejects a connection that timed out, or that the server closed, without a code. */
const transientMessages = /timeout expired|Connection terminated/i;

export function isTransientConnectError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };

  return (typeof code === 'string' && transientCodes.has(code)) || (typeof message === 'string' && transientMessages.test(message));
}

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
 * that starts before its database, as in a fresh deployment, does not exit at once. Each failed
 * attempt logs one line; the delay doubles from 0.5 s up to 5 s. Errors that waiting cannot fix,
 * and the last error once the time is up, are thrown.
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
      if (!isTransientConnectError(error) || Date.now() + delayMs > deadline) throw error;
      logger.warn({ err: error, code, attempt, retryInMs: delayMs }, 'database not reachable: retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
}
