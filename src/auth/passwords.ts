import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { countCodePoints } from '../code-points.js';
import type { Logger } from '../logger.js';
import { defaultHashConcurrency, Semaphore } from './hash-concurrency.js';
import { PasswordWorkers, type PasswordTask } from './password-workers.js';

export const minPasswordLength = 10;
/** bcrypt reads at most 72 bytes; longer passwords are rejected rather than silently cut. */
export const maxPasswordBytes = 72;

/** Returns why a password is not acceptable, or undefined when it is. */
export function passwordProblem(password: string): string | undefined {
  if (password.includes('\0')) return 'Password must not contain the NUL character.';
  // UTF-8, which bcrypt hashes, has no form for a lone surrogate, so Node writes U+FFFD for each
  // one, and every lone surrogate at that position would then match the stored password.
  if (/\p{Cs}/u.test(password)) return 'Password must not contain unpaired UTF-16 surrogates.';
  if (countCodePoints(password) < minPasswordLength) {
    return `Password must be at least ${minPasswordLength} characters.`;
  }
  if (Buffer.byteLength(password, 'utf8') > maxPasswordBytes) {
    return `Password must be at most ${maxPasswordBytes} bytes in UTF-8.`;
  }

  return undefined;
}

export interface PasswordHasherOptions {
  /** bcrypt cost factor. Each step doubles the work. */
  cost: number;
  /** Hashes at once, each on its own worker thread. @default {@link defaultHashConcurrency} */
  maxConcurrency?: number;
  /**
   * Added to the nice value of the hashing threads, 0 to 19. The event loop then gets the CPU
   * first, so under full CPU load logins get less of it than authenticated requests. 0 keeps
   * the hashing threads at the priority of the process. @default 5
   */
  niceIncrement?: number;
  logger: Logger;
  /** Module the worker threads load. @default src/auth/password-worker.js */
  workerFile?: URL;
}

/**
 * Hashes and checks passwords with bcrypt on worker threads of lower priority. A hash of a
 * random password at the same cost replaces the stored hash for unknown users, so a login for an
 * email that does not exist costs the same time as one with a wrong password.
 *
 * At most `maxConcurrency` hashes run at once, one per worker thread, and the rest wait in
 * order. Logins beyond that queue here instead of filling every core, so authenticated requests
 * keep their latency while logins saturate bcrypt. Hashing never uses the libuv pool, so
 * WebCrypto token checks do not wait behind it.
 */
export class PasswordHasher {
  readonly #cost: number;
  readonly #slots: Semaphore;
  readonly #workers: PasswordWorkers;
  #dummyHash: Promise<string> | undefined;

  constructor(options: PasswordHasherOptions) {
    this.#cost = options.cost;
    this.#slots = new Semaphore(Math.max(1, options.maxConcurrency ?? defaultHashConcurrency()));
    this.#workers = new PasswordWorkers({
      threads: this.#slots.limit,
      niceIncrement: options.niceIncrement ?? 5,
      logger: options.logger,
      workerFile: options.workerFile,
    });
  }

  /** Hashes that may run at once. */
  get maxConcurrency(): number {
    return this.#slots.limit;
  }

  /** Live hashing threads. */
  get threads(): readonly Worker[] {
    return this.#workers.threads;
  }

  /** Hashes and comparisons that ended on a worker thread. */
  get completed(): number {
    return this.#workers.completed;
  }

  /** Whether no hashing thread is left, so logins fail until the process restarts. */
  get failed(): boolean {
    return this.#workers.failed;
  }

  async hash(password: string): Promise<string> {
    return String(await this.#run({ kind: 'hash', password, cost: this.#cost }));
  }

  /**
   * Checks a password. Throws QueueAbortedError without hashing when `signal` aborts while the
   * check waits for its turn. A check whose hash started runs to the end, because bcrypt cannot
   * be stopped without terminating its worker thread.
   */
  async verify(password: string, hash: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.#run({ kind: 'compare', password, hash }, signal)) === true;
  }

  /**
   * Returns true when a bcrypt hash has another cost than the configured one. A login for an
   * unknown email compares against a hash of the configured cost, so logins for an account whose
   * hash has another cost take measurably different time until it is rehashed.
   */
  needsRehash(hash: string): boolean {
    const cost = /^\$2[aby]\$(\d{2})\$/.exec(hash)?.[1];

    return cost === undefined || Number(cost) !== this.#cost;
  }

  /** Does the work of one verification and returns false; aborts like {@link verify}. */
  async verifyAgainstDummy(password: string, signal?: AbortSignal): Promise<false> {
    // A failed stand-in hash is computed again by the next call instead of failing every login.
    this.#dummyHash ??= this.hash(randomBytes(32).toString('base64url')).catch((error: unknown) => {
      this.#dummyHash = undefined;
      throw error;
    });
    const dummyHash = await this.#dummyHash;
    await this.verify(password, dummyHash, signal);

    return false;
  }

  /** Computes the stand-in hash ahead of the first login, so that login is not slower. */
  async warmUp(): Promise<void> {
    await this.verifyAgainstDummy('warm-up');
  }

  /** Terminates the hashing threads. Hashes still running reject. */
  close(): Promise<void> {
    return this.#workers.close();
  }

  // The semaphore keeps the queue and Piscina gets no signal, because Piscina terminates the
  // worker of a running task whose signal aborts. Each abandoned login would then cost a new
  // thread that loads bcrypt again.
  #run(task: PasswordTask, signal?: AbortSignal): Promise<string | boolean> {
    return this.#slots.run(() => this.#workers.run(task), signal);
  }
}
