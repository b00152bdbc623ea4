import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './auth/types.js';
import './auth/queries.js';
import './auth/mutations.js';
import './audit/types.js';
import './audit/queries.js';
import './ops/health.js';

let schema: GraphQLSchema | undefined;

/** Builds the GraphQL schema once; fields register themselves on import above. */
export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema();

  return schema;
}
