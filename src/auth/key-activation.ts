import type { JWK } from 'jose';
import type { KeyRing, SigningKey } from './keys.js';

/**
 * JWK member containing the time from which a key may sign, in seconds since the epoch. Before that
 * time the key is published and verifies, so every instance and every JWKS client can learn it
 * before the first token it signs. A key without the member may sign at once. The published JWK
 * set never carries it.
 */
export const signsFromMember = 'gatehouse_signs_from';

/** Returns the activation time of a key in seconds since the epoch, or undefined when it has none. */
export function signsFromOf(jwk: JWK): number | undefined {
  const value = (jwk as Record<string, unknown>)[signsFromMember];

  return typeof value === 'number' ? value : undefined;
}

/** Returns why the activation time of a key is invalid, or undefined when it is valid or absent. */
export function signsFromProblem(jwk: JWK): string | undefined {
  const value = (jwk as Record<string, unknown>)[signsFromMember];
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return undefined;

  return `key ${jwk.kid} has an invalid "${signsFromMember}": use whole seconds since the epoch`;
}

const isActive = (key: SigningKey, nowMs: number) => key.signsFrom === undefined || key.signsFrom * 1000 <= nowMs;

/**
 * Returns the key that signs at `nowMs`: the first key of the set, in file order, whose activation
 * time has passed. While no key is active yet, the ring's fallback signer signs.
 */
export function signingKeyAt(ring: KeyRing, nowMs: number): SigningKey {
  return ring.signers.find((key) => isActive(key, nowMs)) ?? ring.fallbackSigner;
}

/**
 * Chooses the key that signs while no key of a new set is active yet. The previous signing key
 * keeps signing when the new set still contains it, because every instance that loaded the set
 * can verify it. Otherwise the key that activates first signs early, because a set without a
 * signing key would stop logins.
 */
export function chooseFallbackSigner(signers: readonly SigningKey[], previousKid: string | undefined): SigningKey {
  const previous = signers.find((key) => key.kid === previousKid);
  if (previous) return previous;
  const [first, ...rest] = signers as [SigningKey, ...SigningKey[]];

  return rest.reduce(
    (earliest, key) => ((key.signsFrom ?? 0) < (earliest.signsFrom ?? 0) ? key : earliest),
    first,
  );
}
