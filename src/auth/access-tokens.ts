import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { allowedAlgorithms } from './keys.js';
import type { KeyStore } from './key-store.js';
import { VerifiedTokenCache } from './token-cache.js';

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clockSkewSeconds: number;
  /** Verified tokens kept so repeated requests skip the signature check; 0 turns it off. @default 10000 */
  cacheSize?: number;
}

export interface AccessTokenClaims {
  userId: string;
  sessionId: string;
  tokenId: string;
  issuedAt: number;
  expiresAt: number;
}

/** Reason for rejecting an access token. Logged, never sent to the client. */
export type TokenRejection =
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'unknown_key'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'malformed';

export class AccessTokenError extends Error {
  override name = 'AccessTokenError';
  constructor(readonly reason: TokenRejection) {
    super(`access token rejected: ${reason}`);
  }
}

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Signs and verifies access tokens: short-lived JWTs bound to one session. */
export class AccessTokens {
  readonly #cache: VerifiedTokenCache;

  constructor(
    /** Current key ring, read on every call, so a reloaded key file applies to the next token. */
    private readonly keys: KeyStore,
    private readonly options: AccessTokenOptions,
  ) {
    this.#cache = new VerifiedTokenCache(options.cacheSize);
  }

  /**
   * Signs an access token for a session. `sessionExpiresAt` caps its expiry, so no access token
   * outlives the absolute lifetime of its session.
   */
  async sign(
    userId: string,
    sessionId: string,
    now = Date.now(),
    sessionExpiresAt?: Date,
  ): Promise<{ token: string; expiresAt: Date }> {
    const issuedAt = Math.floor(now / 1000);
    const sessionEnd = sessionExpiresAt ? Math.floor(sessionExpiresAt.getTime() / 1000) : Number.POSITIVE_INFINITY;
    const expiresAt = Math.min(issuedAt + this.options.ttlSeconds, sessionEnd);
    const { kid, alg, privateKey } = this.keys.signingKey(now);
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .sign(privateKey);

    return { token, expiresAt: new Date(expiresAt * 1000) };
  }

  /**
   * Returns the claims of a token that {@link verify} accepted before and that is still valid,
   * without a promise, or undefined when the token must be verified.
   */
  cachedClaims(token: string, now = Date.now()): AccessTokenClaims | undefined {
    // A cached token whose key left the ring, or whose `kid` now names other key material, misses.
    const verification = this.keys.current().verification;
    const cached = this.#cache.get(token, (kid) => verification.get(kid)?.publicKey, now);

    return cached ? { ...cached } : undefined;
  }

  /**
   * Verifies a token and returns its claims, or throws AccessTokenError. The algorithm list,
   * issuer and audience are pinned. Keys are looked up only by `kid` in the configured key ring,
   * so keys named in the header (`jwk`, `jku`, `x5u`) are never used.
   */
  async verify(token: string, now = Date.now()): Promise<AccessTokenClaims> {
    const cached = this.cachedClaims(token, now);
    if (cached) return cached;
    const verification = this.keys.current().verification;
    let usedKey: { kid: string; publicKey: unknown } | undefined;
    const keyFor = (header: JWTHeaderParameters) => {
      const key = typeof header.kid === 'string' ? verification.get(header.kid) : undefined;
      if (!key || key.alg !== header.alg) throw new AccessTokenError('unknown_key');
      usedKey = key;

      return key.publicKey;
    };
    try {
      const { payload } = await jwtVerify(token, keyFor, {
        algorithms: [...allowedAlgorithms],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockSkewSeconds,
        requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
        currentDate: new Date(now),
        typ: 'JWT',
      });
      const { sub, sid, jti, iat, exp } = payload;
      if (typeof sid !== 'string' || !uuidShape.test(sid) || !sub || !uuidShape.test(sub)) {
        throw new AccessTokenError('malformed');
      }
      // jose checks `iat` only for its type; a token issued in the future is not valid yet.
      if ((iat as number) > now / 1000 + this.options.clockSkewSeconds) {
        throw new AccessTokenError('not_yet_valid');
      }

      const claims = { userId: sub, sessionId: sid, tokenId: String(jti), issuedAt: iat!, expiresAt: exp! };
      if (usedKey) this.#cache.set(token, claims, usedKey.kid, usedKey.publicKey, now);

      return claims;
    } catch (error) {
      throw toTokenError(error);
    }
  }

  /** Drops the cached verifications of revoked sessions; the deny-list still rejects them. */
  forgetSessions(sessionIds: readonly string[]): void {
    this.#cache.forgetSessions(sessionIds);
  }
}

function toTokenError(error: unknown): AccessTokenError {
  if (error instanceof AccessTokenError) return error;
  if (error instanceof errors.JWTExpired) return new AccessTokenError('expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new AccessTokenError('not_yet_valid');
    if (error.claim === 'iss') return new AccessTokenError('wrong_issuer');
    if (error.claim === 'aud') return new AccessTokenError('wrong_audience');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AccessTokenError('bad_signature');
  }

  return new AccessTokenError('malformed');
}
