import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueAbortedError } from '../../src/auth/hash-concurrency.js';
import { PasswordWorkers, PasswordWorkersFailedError } from '../../src/auth/password-workers.js';
import { PasswordHasher, type PasswordHasherOptions } from '../../src/auth/passwords.js';
import { createLogger } from '../../src/logger.js';

const password = 'correct horse battery';
const logger = createLogger('silent');
// Per-thread nice values are read from /proc/self/task, which only Linux has. On Linux the nice
// value also belongs to a thread rather than to the whole process.
const onLinux = process.platform === 'linux';

/** Reads the nice value (field 19 of /proc/<pid>/task/<tid>/stat) of every thread of this process. */
function threadNiceValues(): Map<number, number> {
  const values = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // The thread exited between the listing and the read.
    }
    // The command name in brackets may contain spaces, so fields are counted after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    values.set(Number(tid), Number(fields[19 - 3]));
  }

  return values;
}

function mainThreadNice(): number {
  return threadNiceValues().get(process.pid) ?? Number.NaN;
}

/** Threads whose nice value is `nice`. */
function threadsAtNice(nice: number): number[] {
  return [...threadNiceValues()].filter(([, value]) => value === nice).map(([tid]) => tid);
}

describe('password workers', () => {
  const hashers: PasswordHasher[] = [];
  const open = (options: Partial<PasswordHasherOptions> = {}) => {
    const hasher = new PasswordHasher({ cost: 4, maxConcurrency: 1, logger, ...options });
    hashers.push(hasher);
    return hasher;
  };
  afterEach(async () => {
    await Promise.all(hashers.splice(0).map((hasher) => hasher.close()));
  });

  it('hashes and compares on the pool', async () => {
    const hasher = open();
    const hash = await hasher.hash(password);
    expect(hash).toMatch(/^\$2b\$04\$/);
    expect(await hasher.verify(password, hash)).toBe(true);
    expect(await hasher.verify('wrong horse battery', hash)).toBe(false);
    expect(hasher.completed).toBe(3);
  });

  it('runs the dummy comparison on the pool', async () => {
    const hasher = open();
    await hasher.warmUp();
    const before = hasher.completed;
    expect(await hasher.verifyAgainstDummy(password)).toBe(false);
    expect(hasher.completed).toBe(before + 1);
  });

  it.skipIf(!onLinux)('lowers the priority of hashing threads only', async () => {
    const mainNice = mainThreadNice();
    const workerNice = Math.min(19, mainNice + 7);
    expect(threadsAtNice(workerNice)).toEqual([]);
    const hasher = open({ maxConcurrency: 2, niceIncrement: 7 });
    // Piscina lowers a worker's priority before the worker takes its first task.
    await Promise.all([hasher.hash(password), hasher.hash(password)]);
    const niced = threadsAtNice(workerNice);
    expect(niced).toHaveLength(2);
    expect(niced).not.toContain(process.pid);
    expect(mainThreadNice()).toBe(mainNice);
  });

  it.skipIf(!onLinux)('keeps the priority with increment 0', async () => {
    const mainNice = mainThreadNice();
    const hasher = open({ maxConcurrency: 2, niceIncrement: 0 });
    await Promise.all([hasher.hash(password), hasher.hash(password)]);
    const otherNice = [...threadNiceValues()].filter(([, value]) => value !== mainNice);
    expect(otherNice).toEqual([]);
  });

  it('drops a queued verify whose signal aborts', async () => {
    const hasher = open({ maxConcurrency: 1 });
    const hash = await hasher.hash(password);
    const before = hasher.completed;
    const controller = new AbortController();
    const first = hasher.verify(password, hash);
    const dropped = hasher.verify(password, hash, controller.signal);
    controller.abort();
    await expect(dropped).rejects.toBeInstanceOf(QueueAbortedError);
    expect(await first).toBe(true);
    expect(hasher.completed).toBe(before + 1);
    await expect(hasher.verify(password, hash, AbortSignal.abort())).rejects.toBeInstanceOf(QueueAbortedError);
    expect(hasher.completed).toBe(before + 1);
  });

  it.skipIf(!onLinux)('terminates the threads on close', async () => {
    const workerNice = Math.min(19, mainThreadNice() + 9);
    const hasher = open({ maxConcurrency: 2, niceIncrement: 9 });
    await Promise.all([hasher.hash(password), hasher.hash(password)]);
    expect(hasher.threads).toHaveLength(2);
    expect(threadsAtNice(workerNice)).toHaveLength(2);
    await hasher.close();
    expect(hasher.threads).toHaveLength(0);
    expect(threadsAtNice(workerNice)).toEqual([]);
  });

  it('rejects after close', async () => {
    const hasher = open();
    await hasher.close();
    expect(hasher.threads).toHaveLength(0);
    await expect(hasher.hash(password)).rejects.toThrow();
  });

});

describe('password worker pool', () => {
  it('replaces a worker that exits mid-task', async () => {
    const workers = new PasswordWorkers({
      threads: 1,
      niceIncrement: 0,
      logger,
      workerFile: new URL('../support/blocking-password-worker.js', import.meta.url),
    });
    try {
      const hashTask = { kind: 'hash', password, cost: 4 } as const;
      // The first task waits for the worker to start, so the next one reaches it at once.
      expect(await workers.run(hashTask)).toBe('hashed');
      const pending = workers.run({ kind: 'compare', password, hash: 'unused' });
      // The compare task blocks its thread for good, so it is still running when the thread ends.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const [worker] = workers.threads;
      await worker?.terminate();
      await expect(pending).rejects.toThrow();
      expect(await workers.run(hashTask)).toBe('hashed');
    } finally {
      await workers.close();
    }
  });

  it('rejects tasks when no worker can start', async () => {
    const lines: string[] = [];
    const workers = new PasswordWorkers({
      threads: 1,
      niceIncrement: 0,
      logger: createLogger('error', { write: (line: string) => void lines.push(line) }),
      workerFile: new URL('./missing-password-worker.js', import.meta.url),
    });
    const task = { kind: 'hash', password, cost: 4 } as const;
    expect(workers.failed).toBe(false);
    await expect(workers.run(task)).rejects.toThrow();
    await expect(workers.run(task)).rejects.toThrow();
    await expect(workers.run(task)).rejects.toBeInstanceOf(PasswordWorkersFailedError);
    expect(workers.threads).toHaveLength(0);
    expect(workers.failed).toBe(true);
    expect(lines.some((line) => line.includes('no password worker thread is left'))).toBe(true);
    await workers.close();
  });
});
