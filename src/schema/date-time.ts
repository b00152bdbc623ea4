import { gatehouseError } from '../errors.js';

// ISO 8601 with a four-digit year. Date.parse also takes free text and years such as -271821,
// and PostgreSQL timestamps start in 4713 BC, so such a year would make the query fail.
const isoDateTimeShape =
  /^(\d{4})-(\d{2})-(\d{2})(?:(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:\d{2})?)?$/;

/** Returns true when the day exists in that month. V8's Date.parse rolls 2026-02-30 over to March 2. */
function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));

  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Parses a DateTime input: an ISO 8601 date, or a date and time. A time without an offset is
 * read as UTC, because Date.parse would read it in the server's time zone. Anything else, such
 * as February 30, is BAD_USER_INPUT.
 */
export function parseDateTime(value: unknown): Date {
  const match = typeof value === 'string' ? isoDateTimeShape.exec(value) : null;
  if (match) {
    const [, year, month, day, time, offset] = match;
    const date = new Date(time !== undefined && offset === undefined ? `${value}Z` : (value as string));
    if (!Number.isNaN(date.getTime()) && isCalendarDate(Number(year), Number(month), Number(day))) return date;
  }
  throw gatehouseError('BAD_USER_INPUT', 'DateTime must be an existing date in ISO 8601, such as 2026-01-31T12:00:00Z.');
}
