import { rmdir } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { ConfigError } from '../config/index.js';
import type { Logger } from '../logger.js';
import { claimStoppedOwner, hasStopped, lockIdentity, ownsLock, readOwner, removeOwner, writeOwner } from './lock-owner.js';

/**
 * Time after which a lock that its holder stopped refreshing counts as abandoned, in ms. It is
 * long because PGlite runs each query on the event loop, which cannot refresh the lock meanwhile.
 * A holder that stopped on this machine is recognised at once through its process id instead.
 */
const staleMs = 60_000;
/** Interval of the refresh, in ms. It must be at most half of `staleMs`. */
const updateMs = 10_000;

/**
 * Locks the embedded database folder `dir` for this process and returns the function that
 * releases it. PGlite does not lock its files, so a second process on the same folder, such as a
 * command-line run beside the server, would write changes that the first one never reads and
 * may overwrite. A lock left by a process that crashed is taken over at once when that process
 * ran on this machine and the file system records birth times, else once the lock is stale. If the lock is lost while held, the process
 * logs it and stops through SIGTERM.
 */
export async function lockDataDir(dir: string, logger: Logger): Promise<() => Promise<void>> {
  const ownerFile = `${dir}.lock-owner`;
  const release = await lockOrTakeOver(dir, ownerFile, logger);
  const identity = await lockIdentity(`${dir}.lock`);
  await writeOwner(ownerFile, identity).catch(async (error: unknown) => {
    await release();
    throw error;
  });

  return async () => {
    await removeOwner(ownerFile);
    await release();
  };
}

async function lockOrTakeOver(dir: string, ownerFile: string, logger: Logger) {
  try {
    return await lock(dir, logger);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = await readOwner(ownerFile);
    // NOTE: a stale lock that another process replaces between this check and the rmdir below
    // is still removed. The window is the time between two file system calls.
    const stopped = owner !== null && hasStopped(owner) && (await ownsLock(owner, `${dir}.lock`));
    if (!stopped || !(await claimStoppedOwner(ownerFile, owner))) throw inUse(dir);
    logger.warn({ dir, pid: owner.pid }, 'embedded database lock of a stopped process taken over');
    await rmdir(`${dir}.lock`).catch(() => undefined);

    return lock(dir, logger).catch((retryError: NodeJS.ErrnoException) => {
      throw retryError.code === 'ELOCKED' ? inUse(dir) : retryError;
    });
  }
}

function lock(dir: string, logger: Logger) {
  return lockfile.lock(dir, {
    realpath: false,
    stale: staleMs,
    update: updateMs,
    onCompromised: (error) => {
      logger.error({ err: error, dir }, 'embedded database lock lost: stopping');
      process.kill(process.pid, 'SIGTERM');
    },
  });
}

function inUse(dir: string): ConfigError {
  return new ConfigError(
    `The embedded database in ${dir} is in use by another Gatehouse process. Stop that process first, or set DATABASE_URL to use PostgreSQL, which serves many processes. A lock whose holder cannot be checked from here, on another machine or in another container, is taken over one minute after its last refresh.`,
  );
}
