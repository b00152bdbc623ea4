import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import { defaultHashConcurrency, Semaphore } from './hash-concurrency.js';

export const minPasswordLength = 10;
/** bcrypt reads at most 72 bytes; longer passwords are rejected rather than silently cut. */
export const maxPasswordBytes = 72;

/** Returns why a password is not acceptable, or undefined when it is. */
export function passwordProblem(password: string): string | undefined {
  if (password.includes('\0')) return 'Password must not contain the NUL character.';
  if ([...password].length < minPasswordLength) {
    return `Password must be at least ${minPasswordLength} characters.`;
  }
  if (Buffer.byteLength(password, 'utf8') > maxPasswordBytes) {
    return `Password must be at most ${maxPasswordBytes} bytes in UTF-8.`;
  }

  return undefined;
}

/**
 * Hashes and checks passwords with bcrypt on the libuv thread pool. A hash of a random password
 * at the same cost replaces the stored hash for unknown users, so a login for an email that does not exist costs
 * the same time as one with a wrong password.
 *
 * At most `maxConcurrency` hashes run at once; the rest wait in order. Logins beyond that queue
 * here instead of filling every pool thread and core, so authenticated requests keep their
 * latency while logins saturate bcrypt.
 */
export class PasswordHasher {
  readonly #cost: number;
  readonly #slots: Semaphore;
  #dummyHash: Promise<string> | undefined;

  /** @param maxConcurrency hashes at once. @default {@link defaultHashConcurrency} */
  constructor(cost: number, maxConcurrency = defaultHashConcurrency()) {
    this.#cost = cost;
    this.#slots = new Semaphore(Math.max(1, maxConcurrency));
  }

  /** Hashes that may run at once. */
  get maxConcurrency(): number {
    return this.#slots.limit;
  }

  hash(password: string): Promise<string> {
    return this.#slots.run(() => bcrypt.hash(password, this.#cost));
  }

  /**
   * Checks a password. Throws QueueAbortedError without hashing when `signal` aborts while the
   * check waits for its turn. A check whose hash started runs to the end, because bcrypt cannot
   * be stopped.
   */
  verify(password: string, hash: string, signal?: AbortSignal): Promise<boolean> {
    return this.#slots.run(() => bcrypt.compare(password, hash), signal);
  }

  /** Does the work of one verification and returns false; aborts like {@link verify}. */
  async verifyAgainstDummy(password: string, signal?: AbortSignal): Promise<false> {
    this.#dummyHash ??= this.hash(randomBytes(32).toString('base64url'));
    const dummyHash = await this.#dummyHash;
    await this.#slots.run(() => bcrypt.compare(password, dummyHash), signal);

    return false;
  }

  /** Computes the stand-in hash ahead of the first login, so that login is not slower. */
  async warmUp(): Promise<void> {
    await this.verifyAgainstDummy('warm-up');
  }
}
