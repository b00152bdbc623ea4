import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from '../logger.js';

/** One bcrypt call, run by src/auth/password-worker.js. */
export type PasswordTask =
  | { kind: 'hash'; password: string; cost: number }
  | { kind: 'compare'; password: string; hash: string };

/** Thrown by every task once no worker thread is left, such as when the worker module fails to load. */
export class PasswordWorkersFailedError extends Error {
  override name = 'PasswordWorkersFailedError';
}

export interface PasswordWorkersOptions {
  /** Worker threads, all started at once and kept until close(). */
  threads: number;
  /**
   * Added to each worker thread's nice value, 0 to 19. On Linux the nice value belongs to the
   * thread, so the event loop keeps its priority. 0 leaves the priority unchanged.
   */
  niceIncrement: number;
  logger: Logger;
  /** Module the workers load. @default src/auth/password-worker.js */
  workerFile?: URL;
}

const defaultWorkerFile = new URL('./password-worker.js', import.meta.url);

/** Returns whether @napi-rs/nice is installed, the optional package Piscina uses to lower a thread's priority. */
function canSetThreadPriority(): boolean {
  try {
    createRequire(import.meta.url).resolve('@napi-rs/nice');
    return true;
  } catch {
    return false;
  }
}

/**
 * A fixed set of worker threads that run bcrypt. Piscina starts them and replaces one that
 * exits during a task, whose caller gets the exit error.
 */
export class PasswordWorkers {
  readonly #pool: Piscina<PasswordTask, string | boolean>;
  readonly #logger: Logger;
  #failure: PasswordWorkersFailedError | undefined;
  #closing = false;

  constructor(options: PasswordWorkersOptions) {
    this.#logger = options.logger;
    this.#pool = new Piscina({
      filename: fileURLToPath(options.workerFile ?? defaultWorkerFile),
      minThreads: options.threads,
      maxThreads: options.threads,
      niceIncrement: options.niceIncrement,
      // The worker is plain JavaScript, so it starts without the process's loader flags, such
      // as `--import tsx`, which would load tsx and its loader thread into every worker.
      execArgv: [],
    });
    this.#pool.on('error', (error: unknown) => {
      this.#logger.error({ err: error, threads: this.#pool.threads.length }, 'a password worker thread failed');
    });
    // Piscina adds a replacement after it removes a worker, so the count is read in a microtask.
    this.#pool.on('workerDestroy', () => queueMicrotask(() => this.#failIfNoWorkerLeft()));
    if (options.niceIncrement > 0 && !canSetThreadPriority()) {
      options.logger.warn(
        { niceIncrement: options.niceIncrement },
        'BCRYPT_NICE_INCREMENT has no effect: the optional package @napi-rs/nice is not installed for this platform',
      );
    }
  }

  /** Live worker threads. */
  get threads(): readonly Worker[] {
    return this.#pool.threads;
  }

  /** Tasks that ended on a worker, with a result or an error. */
  get completed(): number {
    return this.#pool.completed;
  }

  /** Whether no worker thread is left, so every task fails until the process restarts. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Runs one task on a free worker, or after the tasks already waiting in the pool. */
  run(task: PasswordTask): Promise<string | boolean> {
    if (this.#failure) return Promise.reject(this.#failure);
    // Piscina 5.3 starts new workers for a task sent after destroy().
    if (this.#closing) return Promise.reject(new Error('The password workers are closed.'));

    return this.#pool.run(task);
  }

  /** Terminates the workers. A task still running rejects. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#pool.destroy();
  }

  /**
   * Piscina 5.3 does not replace a worker that fails or exits before it is ready, so once none is
   * left, tasks would wait forever. The pool is destroyed instead, which rejects the waiting
   * tasks, and later tasks reject at once.
   */
  #failIfNoWorkerLeft(): void {
    if (this.#closing || this.#failure || this.#pool.threads.length > 0) return;
    this.#failure = new PasswordWorkersFailedError('No password worker thread is running. Restart the process after fixing the error logged for the workers.');
    this.#logger.error('no password worker thread is left: logins and password changes fail until a restart');
    this.#pool.destroy().catch((error: unknown) => {
      this.#logger.error({ err: error }, 'destroying the failed password worker pool failed');
    });
  }
}
