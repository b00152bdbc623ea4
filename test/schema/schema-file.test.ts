import { readFile } from 'node:fs/promises';
import { buildSchema as buildFromSdl, lexicographicSortSchema, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../../src/schema/printed.js';

describe('schema.graphql', () => {
  it('matches the Pothos schema; run npm run codegen after API changes', async () => {
    const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    const normalized = `${printSchema(lexicographicSortSchema(buildFromSdl(committed)))}\n`;
    expect(normalized).toBe(printedSchema());
  });
});
