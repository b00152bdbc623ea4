import type { RequestOrigin } from '../audit/audit-log.js';
import type { WorkspaceRole } from './roles.js';

/** A user's workspace roles, by workspace id. */
export interface AccessSnapshot {
  roles: ReadonlyMap<string, WorkspaceRole>;
}

export interface AccessCacheOptions {
  /** Reads a user's workspace roles from the database for the request of `origin`. */
  load: (userId: string, origin?: RequestOrigin) => Promise<AccessSnapshot>;
  /**
   * How long an entry is served, in milliseconds: the bound for a change whose notification
   * was lost before the listener noticed. 0 turns caching off, so every request reads the
   * database.
   */
  ttlMs: number;
  /** Maximum number of entries. The oldest entry makes room for a new one. @default 10000 */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  snapshot: AccessSnapshot;
  expiresAt: number;
}

/**
 * Keeps each user's workspace roles in this process between requests, so a role check costs no
 * database query. Entries are served only while the cache is `active`, which its owner sets
 * while every change arrives through `forget` (from the database's change notifications).
 * Deactivating drops every entry.
 *
 * A read that started before a change can finish after it with the old rows. A read stores its
 * result only when no change of its user arrived while it ran. Its result still goes to the
 * requests that waited for it.
 */
export class AccessCache {
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<AccessSnapshot>>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  #active = false;

  constructor(private readonly options: AccessCacheOptions) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** True while entries are served, which is from `activate` until `deactivate`. */
  get active(): boolean {
    return this.#active && this.options.ttlMs > 0;
  }

  /** Number of entries in the cache. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Returns the user's roles, from memory when a fresh entry exists, else from the database. A
   * read shared by concurrent requests logs with the `origin` of the request that started it.
   */
  get(userId: string, origin?: RequestOrigin): Promise<AccessSnapshot> {
    if (!this.active) return this.options.load(userId, origin);
    const entry = this.#entries.get(userId);
    if (entry && entry.expiresAt > this.#now()) return Promise.resolve(entry.snapshot);

    return this.#loading.get(userId) ?? this.#load(userId, origin);
  }

  /** Drops one user's entry after a change to their memberships. */
  forget(userId: string): void {
    this.#entries.delete(userId);
    this.#loading.delete(userId);
  }

  /** Drops every entry, for a change that can touch many users. */
  forgetAll(): void {
    this.#entries.clear();
    this.#loading.clear();
  }

  /** Starts serving entries: call once every later change is sure to arrive through `forget`. */
  activate(): void {
    this.forgetAll();
    this.#active = true;
  }

  /** Stops serving entries, while changes may be missed, and drops them all. */
  deactivate(): void {
    this.#active = false;
    this.forgetAll();
  }

  #load(userId: string, origin: RequestOrigin | undefined): Promise<AccessSnapshot> {
    // `forget` and `forgetAll` remove the read from #loading, so a read that is still there when
    // it ends saw no change of its user while it ran.
    const loading: Promise<AccessSnapshot> = this.options.load(userId, origin).then(
      (snapshot) => {
        if (this.#loading.get(userId) === loading) {
          this.#loading.delete(userId);
          if (this.active) this.#store(userId, snapshot);
        }

        return snapshot;
      },
      (error: unknown) => {
        if (this.#loading.get(userId) === loading) this.#loading.delete(userId);
        throw error;
      },
    );
    this.#loading.set(userId, loading);

    return loading;
  }

  #store(userId: string, snapshot: AccessSnapshot): void {
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(userId, { snapshot, expiresAt: this.#now() + this.options.ttlMs });
  }
}
