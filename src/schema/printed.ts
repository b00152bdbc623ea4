import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from './index.js';

/** Prints the schema as committed in schema.graphql, sorted so the file changes only with the API. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}

/** The sorted schema object that GraphQL Code Generator loads. */
export const schema = lexicographicSortSchema(buildSchema());
