import lockfile from 'proper-lockfile';
import { ConfigError } from '../config/index.js';
import type { Logger } from '../logger.js';

/**
 * Time after which a lock that its holder stopped refreshing counts as abandoned, in ms. It is
 * long because PGlite runs each query on the event loop, which cannot refresh the lock meanwhile.
 */
const staleMs = 60_000;
/** Interval of the refresh, in ms. It must be at most half of `staleMs`. */
const updateMs = 10_000;

/**
 * Locks the embedded database folder `dir` for this process and returns the function that
 * releases it. PGlite does not lock its files, so a second process on the same folder, such as a
 * command-line run beside the server, would write changes that the first one never reads and
 * may overwrite. A lock left by a process that crashed is taken over once it is stale. If the
 * lock is lost while held, the process logs it and stops through SIGTERM.
 */
export async function lockDataDir(dir: string, logger: Logger): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(dir, {
      realpath: false,
      stale: staleMs,
      update: updateMs,
      onCompromised: (error) => {
        logger.error({ err: error, dir }, 'embedded database lock lost: stopping');
        process.kill(process.pid, 'SIGTERM');
      },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    throw new ConfigError(
      `The embedded database in ${dir} is in use by another Gatehouse process. Stop that process first, or set DATABASE_URL to use PostgreSQL, which serves many processes.`,
    );
  }
}
