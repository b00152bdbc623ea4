import { randomBytes } from 'node:crypto';
import { countCodePoints } from '../code-points.js';
import { badUserInputError } from '../errors.js';
import { isUuid } from './workspace-access.js';

const slugShape = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks a slug chosen by a user: 1 to 63 lower-case letters, digits and inner hyphens, and
 * never shaped like a UUID, so that import files can name a workspace by id or slug.
 */
export function parseSlug(value: string): string {
  const slug = value.trim();
  if (!slugShape.test(slug) || isUuid(slug)) {
    throw badUserInputError(
      'slug',
      'Slug must be 1 to 63 lower-case letters, digits and inner hyphens, such as "design-team".',
    );
  }

  return slug;
}

/** Derives a slug from a workspace name, with a random suffix so that equal names do not collide. */
export function slugFromName(name: string): string {
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/g, '');

  return `${base || 'workspace'}-${randomBytes(3).toString('hex')}`;
}

// C0 and C1 control characters. PostgreSQL text cannot store NUL, and none belongs in a name.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/u;
// Unpaired UTF-16 surrogates have no UTF-8 form, and the audit event's jsonb rejects them.
const unpairedSurrogate = /\p{Cs}/u;

/** Checks a workspace name: 1 to 100 characters after trimming, no control characters or unpaired surrogates. */
export function parseWorkspaceName(value: string): string {
  const name = value.trim();
  const length = countCodePoints(name);
  if (length === 0 || length > 100) {
    throw badUserInputError('name', 'Name must be 1 to 100 characters.');
  }
  if (controlCharacters.test(name)) {
    throw badUserInputError('name', 'Name must not contain control characters.');
  }
  if (unpairedSurrogate.test(name)) {
    throw badUserInputError('name', 'Name must not contain unpaired UTF-16 surrogates.');
  }

  return name;
}
