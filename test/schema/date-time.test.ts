import { afterEach, describe, expect, it } from 'vitest';
import { assertScalarType } from 'graphql';
import { buildSchema } from '../../src/schema/index.js';

const dateTime = assertScalarType(buildSchema().getType('DateTime'));
const originalTimeZone = process.env.TZ;

describe('DateTime scalar', () => {
  afterEach(() => {
    process.env.TZ = originalTimeZone;
  });

  it('reads a time without offset as UTC', () => {
    // Node applies a new TZ at once, and the parsed time must not depend on it.
    process.env.TZ = 'America/New_York';
    expect((dateTime.parseValue('2026-12-05T10:00:00') as Date).toISOString()).toBe('2026-12-05T10:00:00.000Z');
    expect((dateTime.parseValue('2026-12-05T10:00') as Date).toISOString()).toBe('2026-12-05T10:00:00.000Z');
  });

  it('keeps an explicit offset', () => {
    expect((dateTime.parseValue('2026-12-05T10:00:00+02:00') as Date).toISOString()).toBe('2026-12-05T08:00:00.000Z');
    expect((dateTime.parseValue('2026-12-05') as Date).toISOString()).toBe('2026-12-05T00:00:00.000Z');
  });

  it('rejects days past the end of the month', () => {
    for (const value of ['2026-02-29', '2026-02-30T00:00:00Z', '2026-04-31', '2026-06-31T12:00+01:00']) {
      expect(() => dateTime.parseValue(value), value).toThrow();
    }
    expect((dateTime.parseValue('2028-02-29') as Date).toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });
});
