import { countCodePoints } from '../code-points.js';

/**
 * Maximum address length that RFC 5321 allows in a forward path, counted in characters (code
 * points). NOTE: RFC 5321 counts octets, so a non-ASCII address within this limit may still be
 * longer than a mail server accepts.
 */
export const maxEmailLength = 254;

// Deliberately loose: one "@", something on each side, a dot in the domain, no spaces.
// Proving deliverability needs a confirmation mail, not a regular expression.
const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;
// PostgreSQL text cannot store NUL, and no address contains a control character.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/u;
// An unpaired UTF-16 surrogate has no UTF-8 form, so PostgreSQL text would store U+FFFD instead,
// and jsonb rejects it.
const unpairedSurrogate = /\p{Cs}/u;

/** Normalizes an email for storage and lookup: trimmed, NFC, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

/** Returns `email` with NUL and unpaired UTF-16 surrogates, which jsonb cannot store, as U+FFFD. */
export function storableEmail(email: string): string {
  return email.replace(/[\u0000\p{Cs}]/gu, '\uFFFD');
}

/** Returns why a normalized email is not acceptable, or undefined when it is. */
export function emailProblem(normalized: string): string | undefined {
  if (normalized.length === 0) return 'Email is required.';
  if (countCodePoints(normalized) > maxEmailLength) return `Email must be at most ${maxEmailLength} characters.`;
  if (!emailShape.test(normalized)) return 'Email must look like name@example.com.';
  if (controlCharacters.test(normalized)) return 'Email must not contain control characters.';
  if (unpairedSurrogate.test(normalized)) return 'Email must not contain unpaired UTF-16 surrogates.';

  return undefined;
}
