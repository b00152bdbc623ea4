/** Allowed operation patterns: GraphQL names with `*` and `?` globs, at most 100 characters. */
export const operationPatternShape = /^[_A-Za-z*?][_0-9A-Za-z*?]{0,99}$/;

const globCache = new Map<string, RegExp>();

function globToRegExp(pattern: string): RegExp {
  let regExp = globCache.get(pattern);
  if (!regExp) {
    // The shape check above leaves only name characters and the two glob characters.
    regExp = new RegExp(`^${pattern.replaceAll('*', '.*').replaceAll('?', '.')}$`);
    globCache.set(pattern, regExp);
  }

  return regExp;
}

/** True when `name` (a root field or operation name) matches the pattern. */
export function patternMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (!/[*?]/.test(pattern)) return pattern === name;

  return globToRegExp(pattern).test(name);
}

/**
 * Ranks how specific a pattern is, higher first: an exact name beats any glob, a glob with more
 * literal characters beats one with fewer, and `*` alone comes last.
 */
export function patternSpecificity(pattern: string): number {
  if (pattern === '*') return 0;
  if (!/[*?]/.test(pattern)) return 1_000;

  return 1 + pattern.replace(/[*?]/g, '').length;
}
