import { createHash, createHmac, randomBytes } from 'node:crypto';

/** Creates a new opaque refresh token: 256 random bits, base64url-encoded. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Derives the token that replaces `parent` at rotation. Only a holder of the parent token can
 * compute it, and the child's row id (never sent to clients) makes each derivation unique. This
 * lets a tab that lost the rotation race receive the same child again without storing any token.
 */
export function deriveChildToken(parent: string, childId: string): string {
  return createHmac('sha256', parent).update(`gatehouse-rotation:${childId}`).digest('base64url');
}

/** SHA-256 of a refresh token, hex-encoded: the only form the database stores. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Refresh tokens are 43 base64url characters; anything else is rejected before any lookup. */
export function looksLikeRefreshToken(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}
