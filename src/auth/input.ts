import { countCodePoints } from '../code-points.js';
import { badUserInputError } from '../errors.js';
import { emailProblem, maxEmailLength, normalizeEmail } from './email.js';
import { maxPasswordBytes, passwordProblem } from './passwords.js';

const maxNameLength = 100;
// C0 and C1 control characters, which have no place in a name shown to people.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/u;

/** Checks a new password and throws BAD_USER_INPUT naming the field. */
export function requireValidNewPassword(password: string, field = 'password'): void {
  const problem = passwordProblem(password);
  if (problem) throw badUserInputError(field, problem);
}

/** Returns the normalized email, or throws BAD_USER_INPUT. */
export function requireValidEmail(email: string): string {
  const normalized = normalizeEmail(email);
  const problem = emailProblem(normalized);
  if (problem) throw badUserInputError('email', problem);

  return normalized;
}

/**
 * Checks a password presented at login. Only shapes that no stored password can have are
 * rejected, so the error reveals nothing about any account.
 */
export function requirePlausiblePassword(password: string, field = 'password'): void {
  if (password.length === 0) throw badUserInputError(field, 'Password is required.');
  if (password.includes('\0') || Buffer.byteLength(password, 'utf8') > maxPasswordBytes) {
    throw badUserInputError(field, `Password must be at most ${maxPasswordBytes} bytes without NUL.`);
  }
}

/**
 * Returns the normalized email presented at login, or throws BAD_USER_INPUT when it is longer
 * than any registered email can be. No account matches such an email, so the error reveals
 * nothing, and the failed-login audit event and counters never store an oversized value.
 */
export function requirePlausibleEmail(email: string): string {
  const normalized = normalizeEmail(email);
  if (countCodePoints(normalized) > maxEmailLength) {
    throw badUserInputError('email', `Email must be at most ${maxEmailLength} characters.`);
  }

  return normalized;
}

/** Returns a trimmed display or device name, or throws BAD_USER_INPUT. */
export function requireValidName(value: string, field: string, required: boolean): string | null {
  const trimmed = value.trim().normalize('NFC');
  if (trimmed.length === 0) {
    if (required) throw badUserInputError(field, `${field} is required.`);

    return null;
  }
  if (countCodePoints(trimmed) > maxNameLength) {
    throw badUserInputError(field, `${field} must be at most ${maxNameLength} characters.`);
  }
  if (controlCharacters.test(trimmed)) {
    throw badUserInputError(field, `${field} must not contain control characters.`);
  }
  // PostgreSQL would store U+FFFD in place of an unpaired UTF-16 surrogate, changing the name.
  if (/\p{Cs}/u.test(trimmed)) {
    throw badUserInputError(field, `${field} must not contain unpaired UTF-16 surrogates.`);
  }

  return trimmed;
}
