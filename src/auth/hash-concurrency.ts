import { availableParallelism } from 'node:os';

/** Hash threads started by default on any machine; each is a V8 isolate of its own. */
export const maxDefaultHashConcurrency = 4;

/**
 * Returns how many bcrypt hashes may run at once by default: one fewer than the cores, to keep
 * a core for the event loop, between 1 and {@link maxDefaultHashConcurrency}. On Node 20,
 * `availableParallelism()` counts the CPUs the process may run on, not a container's CPU quota,
 * so without the upper bound a container limited to 2 CPUs on a 64-core host would start 63
 * threads. Set BCRYPT_MAX_CONCURRENCY for more.
 */
export function defaultHashConcurrency(cores = availableParallelism()): number {
  return Math.min(maxDefaultHashConcurrency, Math.max(1, cores - 1));
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
