import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { gatehouseError } from '../errors.js';

export interface QueryLimitsOptions {
  /** Maximum selection depth. Deep queries multiply resolver work. */
  maxDepth: number;
  /** Maximum aliases per operation. Aliases repeat fields, including login, in one request. */
  maxAliases: number;
  /** Maximum lexical tokens per document, checked while parsing, before validation. */
  maxTokens: number;
  /** Maximum directives per operation. */
  maxDirectives: number;
  /** Maximum graphql-armor cost: objects 2, scalars 1, multiplied by 1.5 per level of depth. */
  maxCost: number;
}

/** graphql-armor prefixes every message with "Syntax Error: " even for validation failures. */
function tooComplex(error: GraphQLError): GraphQLError {
  return gatehouseError('QUERY_TOO_COMPLEX', error.message.replace(/^Syntax Error: /, ''));
}

function reject(context: ValidationContext | null, error: GraphQLError): void {
  // The token limit runs inside the parser, which has no validation context to report to.
  if (!context) throw tooComplex(error);
  context.reportError(tooComplex(error));
}

/**
 * Rejects oversized documents with QUERY_TOO_COMPLEX (HTTP 400) during parsing and validation,
 * so no resolver and no database query runs for them. Also removes "Did you mean" field
 * suggestions from validation messages, which would otherwise reveal the schema piece by piece.
 */
export function useQueryLimits(options: QueryLimitsOptions): Plugin[] {
  const callbacks = { onReject: [reject], propagateOnRejection: false };
  const armor = new EnvelopArmor({
    maxDepth: { n: options.maxDepth, ...callbacks },
    maxAliases: { n: options.maxAliases, ...callbacks },
    maxTokens: { n: options.maxTokens, ...callbacks },
    maxDirectives: { n: options.maxDirectives, ...callbacks },
    costLimit: { maxCost: options.maxCost, ...callbacks },
  });

  return armor.protect().plugins as Plugin[];
}
