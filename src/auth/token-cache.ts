import type { AccessTokenClaims } from './access-tokens.js';

/** Maximum verified tokens kept. An entry contains the token string and its claims, about 1 KB (estimate). */
export const defaultTokenCacheSize = 10_000;

interface CachedToken {
  claims: AccessTokenClaims;
  /** The `kid` of the token's header. */
  kid: string;
  /** The key object that verified the signature. The entry is void once the key ring drops it. */
  key: unknown;
  /** When the signature and claims were verified, in ms. Earlier clocks miss the cache. */
  verifiedAtMs: number;
}

/**
 * Verified access tokens, keyed by the whole token string, so a repeated request skips the
 * signature check. A Map in insertion order serves as the LRU: a hit moves its entry to the end,
 * and the first entry is dropped when the cache is full.
 *
 * An entry is served only between its verification time and the token's own `exp`, and only
 * while the key that verified it is still in the key ring. The deny-list is not cached: callers
 * still check revocation on every request.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, CachedToken>();

  /** @param maxEntries entries kept before the least recently used is dropped. @default 10000 */
  constructor(private readonly maxEntries = defaultTokenCacheSize) {}

  /** Returns the claims of a token verified before, or undefined on a miss. */
  get(token: string, currentKey: (kid: string) => unknown, nowMs: number): AccessTokenClaims | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    const expired = nowMs >= entry.claims.expiresAt * 1000;
    if (expired || currentKey(entry.kid) !== entry.key) {
      this.#entries.delete(token);
      return undefined;
    }
    // A clock earlier than the verification may be before `iat` or `nbf`: verify again.
    if (nowMs < entry.verifiedAtMs) return undefined;
    this.#entries.delete(token);
    this.#entries.set(token, entry);

    return entry.claims;
  }

  set(token: string, claims: AccessTokenClaims, kid: string, key: unknown, nowMs: number): void {
    if (this.maxEntries <= 0) return;
    this.#entries.delete(token);
    this.#entries.set(token, { claims, kid, key, verifiedAtMs: nowMs });
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Drops every cached token of the given sessions, after they were revoked. */
  forgetSessions(sessionIds: readonly string[]): void {
    if (sessionIds.length === 0 || this.#entries.size === 0) return;
    const revoked = new Set(sessionIds);
    for (const [token, entry] of this.#entries) {
      if (revoked.has(entry.claims.sessionId)) this.#entries.delete(token);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
