import { readFileSync, readlinkSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * The process that holds a lock. Its id names it only on the same machine, in the same boot and
 * the same process-id namespace, because containers on one host have their own.
 */
export interface LockOwner {
  pid: number;
  host: string;
  bootId: string | null;
  pidNamespace: string | null;
  /** The lock directory that this owner created. Owner files of earlier versions lack it. */
  lock?: LockIdentity;
}

/**
 * A lock directory's inode number and birth time, in ns, as decimal strings. A directory that
 * another process creates after the owner's was removed gets another birth time, even when the
 * file system gives it the same inode number again.
 */
export interface LockIdentity {
  ino: string;
  birthtimeNs: string;
}

/** Returns what `read` reads, trimmed, or null when the file is missing, as on systems other than Linux. */
function readOrNull(read: () => string): string | null {
  try {
    return read().trim();
  } catch {
    return null;
  }
}

export function thisProcess(): LockOwner {
  return {
    pid: process.pid,
    host: hostname(),
    bootId: readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNamespace: readOrNull(() => readlinkSync('/proc/self/ns/pid')),
  };
}

/**
 * Returns the identity of the lock directory `lockDir`, or null when it is missing or the file
 * system records no birth time, because an inode number alone can be reused at once.
 */
export async function lockIdentity(lockDir: string): Promise<LockIdentity | null> {
  try {
    const { ino, birthtimeNs } = await stat(lockDir, { bigint: true });

    return birthtimeNs > 0n ? { ino: String(ino), birthtimeNs: String(birthtimeNs) } : null;
  } catch {
    return null;
  }
}

/**
 * Tells whether `lockDir` is still the directory that `owner` created. The owner file is written
 * only after the lock is taken, so a process that has just taken over a stale lock leaves the
 * previous owner's file in place for a moment, beside a lock that is not that owner's.
 */
export async function ownsLock(owner: LockOwner, lockDir: string): Promise<boolean> {
  const current = await lockIdentity(lockDir);

  return current !== null && owner.lock?.ino === current.ino && owner.lock.birthtimeNs === current.birthtimeNs;
}

export async function writeOwner(file: string, lock: LockIdentity | null): Promise<void> {
  await writeFile(file, JSON.stringify({ ...thisProcess(), ...(lock ? { lock } : {}) }));
}

export async function removeOwner(file: string): Promise<void> {
  await rm(file, { force: true });
}

export async function readOwner(file: string): Promise<LockOwner | null> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as Partial<LockOwner>;

    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? (owner as LockOwner) : null;
  } catch {
    return null;
  }
}

/**
 * Tells whether `owner` has certainly stopped: it ran on this machine, in this boot and namespace,
 * and no process has its id. A reused id counts as running, so the lock then waits until it is
 * stale, which is safe.
 */
export function hasStopped(owner: LockOwner): boolean {
  const self = thisProcess();
  const sameMachine =
    owner.host === self.host && owner.bootId === self.bootId && owner.pidNamespace === self.pidNamespace;
  // On Linux without a readable /proc, containers on one host would look like one machine.
  const identified = process.platform !== 'linux' || (self.bootId !== null && self.pidNamespace !== null);
  if (!sameMachine || !identified || owner.pid === self.pid) return false;
  try {
    process.kill(owner.pid, 0);

    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Claims the owner file of a stopped holder, so that of several processes starting at once only
 * one takes the lock over. Renaming is atomic: one process gets the file. If the file it got is
 * not the stopped holder's, a new holder wrote it meanwhile, and it is put back.
 */
export async function claimStoppedOwner(file: string, stopped: LockOwner): Promise<boolean> {
  const claimed = `${file}.${process.pid}`;
  try {
    await rename(file, claimed);
  } catch {
    return false;
  }
  const got = await readOwner(claimed);
  if (got?.pid === stopped.pid && got.host === stopped.host) {
    await rm(claimed, { force: true });

    return true;
  }
  await rename(claimed, file);

  return false;
}
