/**
 * Counts the Unicode code points of a string, the characters that PostgreSQL's `length()` and
 * `varchar(n)` count. `string.length` counts UTF-16 code units instead, so there a character
 * outside the Basic Multilingual Plane, such as an emoji, counts twice. An unpaired surrogate
 * counts as one code point.
 */
export function countCodePoints(value: string): number {
  let count = 0;
  // The string iterator steps over whole code points, without building an array.
  for (const _ of value) count += 1;

  return count;
}
