import { availableParallelism } from 'node:os';

/** libuv's thread pool size when UV_THREADPOOL_SIZE is not set (libuv 1.x, Node 20). */
const defaultThreadPoolSize = 4;
/** Pool threads kept free of bcrypt for WebCrypto signing and verification and file writes. */
const reservedPoolThreads = 2;

/**
 * Returns the size of this process's libuv thread pool: UV_THREADPOOL_SIZE as the process
 * started with it, clamped to libuv's 1..1024, or 4.
 *
 * NOTE: libuv reads UV_THREADPOOL_SIZE once, when the pool first starts. Node's ES module loader
 * (and tsx) read source files on the pool, so the pool runs before the first line of
 * src/main.ts: setting the variable there has no effect. Set it in the environment that starts
 * the process, such as `UV_THREADPOOL_SIZE=10 npm start` on an 8-core machine.
 */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const configured = Number.parseInt(env.UV_THREADPOOL_SIZE ?? '', 10);
  if (!Number.isFinite(configured)) return defaultThreadPoolSize;

  return Math.min(Math.max(configured, 1), 1024);
}

/**
 * Returns how many bcrypt hashes may run at once by default: one fewer than the cores, so the
 * event loop keeps a core for authenticated requests, and two fewer than the pool threads, so
 * token signing and verification never queue behind password hashing. At least 1.
 */
export function defaultHashConcurrency(cores = availableParallelism(), poolSize = threadPoolSize()): number {
  return Math.max(1, Math.min(cores - 1, poolSize - reservedPoolThreads));
}

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in arrival order. */
export class Semaphore {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running += 1;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so the running count stays the same.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}
