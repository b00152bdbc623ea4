import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './auth/types.js';
import './auth/queries.js';
import './auth/mutations.js';
import './sessions/types.js';
import './sessions/queries.js';
import './sessions/mutations.js';
import './admin/mutations.js';
import './rate-limits/types.js';
import './rate-limits/queries.js';
import './rate-limits/mutations.js';
import './workspaces/types.js';
import './workspaces/queries.js';
import './workspaces/permissions.js';
import './workspaces/mutations.js';
import './audit/types.js';
import './audit/queries.js';
import './ops/health.js';

let schema: GraphQLSchema | undefined;

/** Builds the GraphQL schema once; fields register themselves on import above. */
export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema();

  return schema;
}
