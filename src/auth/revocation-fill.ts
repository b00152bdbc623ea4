import type { Logger } from '../logger.js';

/** Delay before a failed fill is tried again, in ms. */
export const fillRetryMs = 5000;

/**
 * Runs the fill that copies recent revocations from PostgreSQL into a deny-list, and tracks
 * whether the list is filled. A list returns `unknown` while `filled` is false, so PostgreSQL
 * decides every lookup until a fill succeeds.
 *
 * A failed fill is logged and tried again every {@link fillRetryMs} while `canRetry` returns
 * true. Each `start` marks the list unfilled. A fill that an earlier `start` began no longer
 * marks it filled, because the list may have lost writes since, as Redis does on a reconnect.
 */
export class RevocationFill {
  #fill: (() => Promise<void>) | undefined;
  #filled = false;
  /** Counts starts, so that a fill overtaken by a later start does not mark the list filled. */
  #starts = 0;

  /** @param canRetry whether a failed fill is tried again, such as while Redis stays connected. */
  constructor(
    private readonly logger: Logger,
    private readonly canRetry: () => boolean,
  ) {}

  get filled(): boolean {
    return this.#filled;
  }

  /** Stores the fill that later starts run. */
  register(fill: () => Promise<void>): void {
    this.#fill = fill;
  }

  /** Marks the list unfilled and runs the registered fill, if any. */
  start(): void {
    this.#filled = false;
    const run = ++this.#starts;
    const fill = this.#fill;
    if (!fill) return;
    fill().then(
      () => {
        if (run === this.#starts) this.#filled = true;
      },
      (error: unknown) => {
        this.logger.error({ err: error, retryInMs: fillRetryMs }, 'filling the revocation deny-list failed');
        this.#retryLater(run);
      },
    );
  }

  /**
   * Marks the list unfilled after a write to it failed, and runs the fill again after
   * {@link fillRetryMs}. A fill already running no longer marks the list filled, because its read
   * from PostgreSQL may predate the lost write. The delay keeps a fill whose own writes fail from
   * running in a tight loop.
   */
  invalidate(): void {
    this.#retryLater(this.markUnfilled());
  }

  /**
   * Marks the list unfilled until the next `start` succeeds, such as when its store disconnects,
   * and returns the new start count. A fill already running no longer marks the list filled.
   */
  markUnfilled(): number {
    this.#filled = false;

    return ++this.#starts;
  }

  #retryLater(run: number): void {
    const retry = setTimeout(() => {
      if (run === this.#starts && this.canRetry()) this.start();
    }, fillRetryMs);
    retry.unref();
  }
}
