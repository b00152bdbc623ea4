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
 * Returns how many bcrypt hashes may run at once by default, at least 1. One fewer than the
 * cores keeps a core for the event loop. Two fewer than the pool threads keeps threads free for
 * token signing and verification, so they do not queue behind password hashing.
 */
export function defaultHashConcurrency(cores = availableParallelism(), poolSize = threadPoolSize()): number {
  return Math.max(1, Math.min(cores - 1, poolSize - reservedPoolThreads));
}

/** Thrown when a task gives up its place in the queue because its signal aborted. */
export class QueueAbortedError extends Error {
  override name = 'QueueAbortedError';
}

/**
 * A counting semaphore: at most `limit` tasks run at once, the rest wait in arrival order. A
 * waiting task whose signal aborts leaves the queue without running, so requests whose client
 * went away do not take a turn from the ones still waiting.
 */
export class Semaphore {
  #running = 0;
  readonly #waiting = new Set<() => void>();

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new QueueAbortedError('the request was aborted before its turn');
    if (this.#running >= this.limit) await this.#wait(signal);
    else this.#running += 1;
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.delete(start);
        reject(new QueueAbortedError('the request was aborted while waiting'));
      };
      const start = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiting.add(start);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(): void {
    // The slot passes straight to the oldest waiter, so the running count stays the same.
    const next = this.#waiting.values().next();
    if (next.done) {
      this.#running -= 1;
      return;
    }
    this.#waiting.delete(next.value);
    next.value();
  }
}
