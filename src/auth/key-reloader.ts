import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/index.js';
import type { Logger } from '../logger.js';
import { withTimeout } from '../timeout.js';
import { parseKeyRing, type KeyRing, type LoadedKeys } from './keys.js';
import type { KeyStore } from './key-store.js';

export interface KeyReloaderOptions {
  store: KeyStore;
  /** Path of the JWK set file to read again. */
  file: string;
  /** Name of the file in error messages: JWT_PRIVATE_JWKS_FILE or the generated file's path. */
  variable: string;
  source: Extract<KeyRing['source'], 'file' | 'generated'>;
  /** Content the current ring was loaded from. The same content is not parsed again. */
  loadedText: string;
  /** Seconds between reads of the file. 0 turns the timer off, so only reload() reads it. */
  intervalSeconds: number;
  logger: Logger;
  /**
   * How long one read of the file may take before it counts as failed, so a read that hangs, as
   * on unreachable network storage, does not hold up later reloads or close(). @default 5000
   */
  readTimeoutMs?: number;
}

/** Result of one reload: the ring was swapped, the file had not changed, or it was rejected. */
export type ReloadOutcome = 'reloaded' | 'unchanged' | 'failed';

/**
 * Reads the key file again on a timer and on request, and swaps the ring of the KeyStore when the
 * content changed and is a valid key set. An invalid file keeps the current ring. Each distinct
 * failure logs one error line, so a file that stays broken does not log on every read.
 */
export class KeyReloader {
  #loadedText: string;
  #lastFailure: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The reload running or last run. Reloads run one after another, never two at once. */
  #queue: Promise<ReloadOutcome> = Promise.resolve('unchanged');
  #stopped = false;
  /**
   * A read that timed out and has not ended yet. It occupies a thread of the libuv pool, which
   * WebCrypto token checks also use, so no second read starts until it ends.
   */
  #hungRead: Promise<unknown> | undefined;

  constructor(private readonly options: KeyReloaderOptions) {
    this.#loadedText = options.loadedText;
  }

  /** Starts the timer, unless the interval is 0. The timer does not keep the process alive. */
  start(): void {
    if (this.options.intervalSeconds === 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.reload(), this.options.intervalSeconds * 1000);
    this.#timer.unref();
  }

  /** Reads the file now, after any reload already running. Never rejects. */
  reload(): Promise<ReloadOutcome> {
    const next = async (): Promise<ReloadOutcome> => {
      if (this.#stopped) return 'unchanged';
      try {
        return await this.#reloadOnce();
      } catch (error) {
        this.options.logger.error({ err: error, file: this.options.file }, 'reloading signing keys failed unexpectedly');

        return 'failed';
      }
    };
    this.#queue = this.#queue.then(next);

    return this.#queue;
  }

  /** Stops the timer and waits for a running reload to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#queue;
  }

  async #reloadOnce(): Promise<ReloadOutcome> {
    const { file, variable, source, store, logger } = this.options;
    let text: string;
    try {
      text = await this.#read(file);
    } catch (error) {
      return this.#fail(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
    }
    this.#lastFailure = undefined;
    if (text === this.#loadedText) return 'unchanged';
    // A rejected content is remembered too, so it is parsed and logged once.
    this.#loadedText = text;
    let ring: KeyRing;
    try {
      ring = await parseKeyRing(text, variable, source, store.current());
    } catch (error) {
      // The messages of ConfigErrors from parseKeyRing name at most a `kid`. Other errors are
      // logged by name only, because their messages could quote the file.
      return this.#fail(error instanceof ConfigError ? error.message : `invalid key set (${(error as Error).name})`);
    }
    const signing = store.replace(ring);
    const pending = ring.signers.filter((key) => key.signsFrom !== undefined && key.signsFrom * 1000 > Date.now());
    logger.info(
      {
        file,
        signingKid: signing.kid,
        verifyingKids: [...ring.verification.keys()],
        pendingKids: pending.map((key) => ({ kid: key.kid, signsFrom: key.signsFrom })),
      },
      'signing keys reloaded',
    );

    return 'reloaded';
  }

  async #read(file: string): Promise<string> {
    if (this.#hungRead) throw Object.assign(new Error('an earlier read has not ended'), { code: 'EBUSY' });
    const read = readFile(file, 'utf8');
    try {
      return await withTimeout(read, this.options.readTimeoutMs ?? 5000);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
        const hung = read.then(
          () => undefined,
          () => undefined,
        );
        this.#hungRead = hung;
        void hung.then(() => {
          if (this.#hungRead === hung) this.#hungRead = undefined;
        });
      }
      throw error;
    }
  }

  #fail(reason: string): ReloadOutcome {
    if (reason !== this.#lastFailure) {
      this.options.logger.error(
        { file: this.options.file, reason, signingKid: this.options.store.signingKey().kid },
        'reloading signing keys failed, keeping the current keys',
      );
    }
    this.#lastFailure = reason;

    return 'failed';
  }
}

/**
 * Starts a KeyReloader for keys loaded from a file, or returns undefined for keys from
 * JWT_PRIVATE_JWKS, which cannot change while the process runs.
 */
export function startKeyReloader(
  loaded: LoadedKeys,
  store: KeyStore,
  intervalSeconds: number,
  logger: Logger,
): KeyReloader | undefined {
  const source = loaded.ring.source;
  if (!loaded.file || source === 'environment') return undefined;
  const reloader = new KeyReloader({
    store,
    file: loaded.file.path,
    variable: loaded.file.variable,
    source,
    loadedText: loaded.file.text,
    intervalSeconds,
    logger,
  });
  reloader.start();

  return reloader;
}
